terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = "~> 5.0"
    }
  }
}

# No credentials here, ever. The provider takes them from the environment of whoever runs terraform
# (AWS_PROFILE / SSO / instance role). State holds no secrets either: API keys never pass through terraform.
provider "aws" {
  region = var.region
  default_tags {
    tags = {
      Project = "tickwire"
      Site    = var.site
    }
  }
}
