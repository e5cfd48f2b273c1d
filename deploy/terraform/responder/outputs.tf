output "function_name" {
  description = "The responder's function."
  value       = aws_lambda_function.responder.function_name
}

output "table_name" {
  description = "The claims table (one live probe per cause and window)."
  value       = aws_dynamodb_table.claims.name
}

output "log_group_name" {
  description = "Where the responder writes each diagnosis."
  value       = aws_cloudwatch_log_group.diagnoses.name
}

output "rule_name" {
  description = "The EventBridge rule on failed starts."
  value       = aws_cloudwatch_event_rule.failed_starts.name
}
