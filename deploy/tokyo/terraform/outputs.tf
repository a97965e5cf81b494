output "instance_id" {
  description = "aws ssm start-session --target <this>"
  value       = aws_instance.engine.id
}

output "public_ip" {
  description = "Whitelist this IP on the exchange API keys (trade only, no withdrawals)"
  value       = aws_eip.engine.public_ip
}

output "availability_zone_id" {
  value = aws_subnet.trading.availability_zone_id
}

output "placement_group" {
  value = aws_placement_group.trading.name
}
