# One trading host per site in a cluster placement group (same spine as any later box of the site: a recorder, a
# second engine), with a fixed Elastic IP (exchanges restrict API keys to IPs), no inbound ports (administration
# through SSM Session Manager), Debian 12, and cloud-init doing the host preparation (cloud-init.yaml.tftpl).

data "aws_ami" "debian12" {
  most_recent = true
  owners      = ["136693411437"] # Debian's official AWS account
  filter {
    name   = "name"
    values = ["debian-12-amd64-*"]
  }
  filter {
    name   = "architecture"
    values = ["x86_64"]
  }
}

resource "aws_placement_group" "trading" {
  name     = "tickwire-${var.site}"
  strategy = "cluster"
}

resource "aws_vpc" "main" {
  cidr_block           = var.vpc_cidr
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = "tickwire-${var.site}" }
}

resource "aws_internet_gateway" "main" {
  vpc_id = aws_vpc.main.id
}

resource "aws_subnet" "trading" {
  vpc_id               = aws_vpc.main.id
  cidr_block           = var.subnet_cidr
  availability_zone_id = var.availability_zone_id
  tags                 = { Name = "tickwire-${var.site}-${var.availability_zone_id}" }
}

resource "aws_route_table" "public" {
  vpc_id = aws_vpc.main.id
  route {
    cidr_block = "0.0.0.0/0"
    gateway_id = aws_internet_gateway.main.id
  }
}

resource "aws_route_table_association" "trading" {
  subnet_id      = aws_subnet.trading.id
  route_table_id = aws_route_table.public.id
}

resource "aws_security_group" "engine" {
  name        = "tickwire-${var.site}-engine"
  description = "tickwire engine: no inbound (control plane is loopback-only, admin via SSM), outbound HTTPS and WSS"
  vpc_id      = aws_vpc.main.id

  egress {
    description = "exchange REST and WebSocket, package mirrors, SSM"
    from_port   = 443
    to_port     = 443
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    description = "Debian mirrors over plain HTTP (apt verifies signatures)"
    from_port   = 80
    to_port     = 80
    protocol    = "tcp"
    cidr_blocks = ["0.0.0.0/0"]
  }
  egress {
    description = "DNS inside the VPC"
    from_port   = 53
    to_port     = 53
    protocol    = "udp"
    cidr_blocks = [var.vpc_cidr]
  }
}

data "aws_iam_policy_document" "assume_ec2" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["ec2.amazonaws.com"]
    }
  }
}

resource "aws_iam_role" "engine" {
  name               = "tickwire-${var.site}-engine"
  assume_role_policy = data.aws_iam_policy_document.assume_ec2.json
}

resource "aws_iam_role_policy_attachment" "ssm" {
  role       = aws_iam_role.engine.name
  policy_arn = "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore"
}

resource "aws_iam_instance_profile" "engine" {
  name = "tickwire-${var.site}-engine"
  role = aws_iam_role.engine.name
}

resource "aws_instance" "engine" {
  ami                         = data.aws_ami.debian12.id
  instance_type               = var.instance_type
  subnet_id                   = aws_subnet.trading.id
  placement_group             = aws_placement_group.trading.id
  vpc_security_group_ids      = [aws_security_group.engine.id]
  iam_instance_profile        = aws_iam_instance_profile.engine.name
  associate_public_ip_address = false
  ebs_optimized               = true
  monitoring                  = true

  # One thread per core would halve the vCPUs; keep SMT on and leave the trading core's sibling idle instead
  # (isolate_cores), which keeps the housekeeping capacity.
  metadata_options {
    http_tokens   = "required" # IMDSv2 only
    http_endpoint = "enabled"
  }

  root_block_device {
    volume_type = "gp3"
    volume_size = var.root_volume_gb
    encrypted   = true
  }

  user_data = templatefile("${path.module}/cloud-init.yaml.tftpl", {
    site               = var.site
    trading_cores      = var.trading_cores
    isolate_cores      = var.isolate_cores
    housekeeping_cores = var.housekeeping_cores
    apply_kernel_args  = var.apply_kernel_args
    node_major         = var.node_major
  })
  user_data_replace_on_change = false

  tags = { Name = "tickwire-${var.site}" }
}

# The address the exchanges whitelist for the API keys: it must survive instance replacement.
resource "aws_eip" "engine" {
  domain = "vpc"
  tags   = { Name = "tickwire-${var.site}" }
}

resource "aws_eip_association" "engine" {
  instance_id   = aws_instance.engine.id
  allocation_id = aws_eip.engine.id
}
