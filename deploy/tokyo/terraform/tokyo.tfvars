# Binance (Spot and USD-M Futures): matching engines in AWS Tokyo.
site   = "tokyo"
region = "ap-northeast-1"
# Commonly reported as the closest AZ to Binance's endpoints; confirm with the RTT probe in the README before
# committing to it (AZ IDs are stable across accounts, AZ letters are not).
availability_zone_id = "apne1-az4"
instance_type        = "c7i.4xlarge"
trading_cores        = "2"
isolate_cores        = "2,10"
housekeeping_cores   = "0-1,3-9,11-15"
vpc_cidr             = "10.42.0.0/16"
subnet_cidr          = "10.42.1.0/24"
