# One set of files for every site; a site is a tfvars file:
#   terraform workspace new tokyo     && terraform apply -var-file=tokyo.tfvars      (Binance, ap-northeast-1)
#   terraform workspace new singapore && terraform apply -var-file=singapore.tfvars  (Bybit, ap-southeast-1)

variable "site" {
  description = "Site name: picks /etc/tickwire/<site>.env and tickwire@<site>.service on the host"
  type        = string
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{1,30}$", var.site))
    error_message = "site must be a short lowercase name such as tokyo or singapore."
  }
}

variable "region" {
  description = "AWS region next to the exchange's matching engine (Binance: ap-northeast-1, Bybit: ap-southeast-1)"
  type        = string
}

variable "availability_zone_id" {
  description = <<-EOT
    AZ *ID* (apne1-az4, not ap-northeast-1a: letters are shuffled per account, IDs are not). Choose it by measuring:
    launch a probe instance in each AZ and compare RTT to the exchange's API and WebSocket hosts (README).
  EOT
  type        = string
}

variable "instance_type" {
  description = <<-EOT
    c7i.4xlarge by default: Sapphire Rapids at 3.2 GHz all-core turbo (single-thread speed is what a Node event loop
    needs), 16 vCPU = 8 physical cores (one isolated for trading with its hyperthread sibling idle, the rest for
    IRQs, the kernel and tools), up to 12.5 Gbps ENA, cluster placement groups supported, cheaper and newer than z1d.
    z1d.3xlarge (4.0 GHz all-core, Skylake) has the highest clock and is worth a measured comparison;
    c7i.metal-24xl gives control of C-states and P-states (not exposed on smaller sizes) for the lowest tail.
  EOT
  type        = string
  default     = "c7i.4xlarge"
}

variable "trading_cores" {
  description = "CPU list of the trading core(s); must match TICKWIRE_CORES in /etc/tickwire/<site>.env and CPUAffinity"
  type        = string
  default     = "2"
}

variable "housekeeping_cores" {
  description = "CPU list for IRQs and everything else (irqaffinity=); on c7i.4xlarge vCPU n and n+8 are siblings"
  type        = string
  default     = "0-1,3-9,11-15"
}

variable "isolate_cores" {
  description = "CPU list for isolcpus/nohz_full/rcu_nocbs: the trading core and its idle hyperthread sibling"
  type        = string
  default     = "2,10"
}

variable "apply_kernel_args" {
  description = "cloud-init writes the kernel arguments to /etc/default/grub.d/90-tickwire.cfg and reboots once"
  type        = bool
  default     = true
}

variable "vpc_cidr" {
  type    = string
  default = "10.42.0.0/16"
}

variable "subnet_cidr" {
  type    = string
  default = "10.42.1.0/24"
}

variable "root_volume_gb" {
  type    = number
  default = 40
}

variable "node_major" {
  description = "Node.js major version installed from NodeSource on the Debian 12 image (CI runs 20, 22 and 24; 22 is the deployed one: README, Image and Node)"
  type        = number
  default     = 22
}
