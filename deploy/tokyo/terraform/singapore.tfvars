# Bybit (v5 spot and linear): matching engines in AWS Singapore.
site   = "singapore"
region = "ap-southeast-1"
# Measure before choosing (README: picking the AZ); this is a starting point, not a known fact.
availability_zone_id = "apse1-az2"
instance_type        = "c7i.4xlarge"
trading_cores        = "2"
isolate_cores        = "2,10"
housekeeping_cores   = "0-1,3-9,11-15"
vpc_cidr             = "10.43.0.0/16"
subnet_cidr          = "10.43.1.0/24"
