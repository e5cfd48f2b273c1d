# The vpcprobe responder: every ECS task of this region that stops with TaskFailedToStart is
# diagnosed from its own subnet. The same resources as taskdef/template.json with
# EnableResponder=true; the roles allow exactly responder.Actions and inspect.Actions (a test of
# taskdef holds this file to them).

terraform {
  required_version = ">= 1.5"
  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.0"
    }
  }
}

data "aws_caller_identity" "current" {}
data "aws_partition" "current" {}
data "aws_region" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  partition = data.aws_partition.current.partition
  region    = data.aws_region.current.name
  function  = "${var.name}-vpcprobe-responder"
  log_group = "${var.log_group_name}/responder"

  # What the responder calls besides inspect's reads (responder.Actions).
  ecs_actions = [
    "ecs:DescribeServices",
    "ecs:DescribeTaskDefinition",
    "ecs:DescribeTasks",
  ]
  lambda_actions = [
    "lambda:CreateFunction",
    "lambda:DeleteFunction",
    "lambda:GetFunction",
    "lambda:InvokeFunction",
    "lambda:ListTags",
    "lambda:TagResource",
  ]
  claims_actions = [
    "dynamodb:DeleteItem",
    "dynamodb:GetItem",
    "dynamodb:PutItem",
    "dynamodb:UpdateItem",
  ]
  # inspect.Actions: the VPC's configuration, joined to each live probe.
  inspect_actions = [
    "ec2:DescribeDhcpOptions",
    "ec2:DescribeManagedPrefixLists",
    "ec2:DescribeNatGateways",
    "ec2:DescribeNetworkAcls",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeRouteTables",
    "ec2:DescribeSecurityGroups",
    "ec2:DescribeSubnets",
    "ec2:DescribeVpcAttribute",
    "ec2:DescribeVpcBlockPublicAccessExclusions",
    "ec2:DescribeVpcBlockPublicAccessOptions",
    "ec2:DescribeVpcEndpoints",
    "ec2:DescribeVpcs",
    "ec2:GetManagedPrefixListEntries",
    "network-firewall:DescribeFirewall",
    "network-firewall:DescribeFirewallPolicy",
    "network-firewall:DescribeRuleGroup",
    "network-firewall:ListFirewalls",
    "route53:ListHostedZonesByVPC",
    "route53resolver:GetFirewallConfig",
    "route53resolver:GetResolverRule",
    "route53resolver:ListFirewallDomains",
    "route53resolver:ListFirewallRuleGroupAssociations",
    "route53resolver:ListFirewallRules",
    "route53resolver:ListResolverRuleAssociations",
  ]
}

resource "aws_dynamodb_table" "claims" {
  name         = "${var.name}-vpcprobe-responder"
  billing_mode = "PAY_PER_REQUEST"
  hash_key     = "pk"

  attribute {
    name = "pk"
    type = "S"
  }

  ttl {
    attribute_name = "expires_at"
    enabled        = true
  }
}

resource "aws_cloudwatch_log_group" "diagnoses" {
  name              = local.log_group
  retention_in_days = var.log_retention_days
}

resource "aws_cloudwatch_log_group" "function" {
  name              = "/aws/lambda/${local.function}"
  retention_in_days = var.log_retention_days
}

data "aws_iam_policy_document" "lambda_trust" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

# The probe functions' role: their network interfaces in the failing subnet and their own logs.
resource "aws_iam_role" "probe" {
  name_prefix        = "vpcprobe-probe-"
  description        = "Execution role of the probe functions the vpcprobe responder creates in failing subnets"
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

resource "aws_iam_role_policy" "probe" {
  role = aws_iam_role.probe.id
  name = "vpcprobe-probe-function"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      {
        Sid      = "VpcNetworkInterfaces"
        Effect   = "Allow"
        Action   = ["ec2:CreateNetworkInterface", "ec2:DescribeNetworkInterfaces", "ec2:DeleteNetworkInterface", "ec2:AssignPrivateIpAddresses", "ec2:UnassignPrivateIpAddresses"]
        Resource = "*"
      },
      {
        Sid      = "FunctionLogs"
        Effect   = "Allow"
        Action   = ["logs:CreateLogGroup", "logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/lambda/vpcprobe-*", "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:/aws/lambda/vpcprobe-*:*"]
      },
    ]
  })
}

# The responder's role: exactly responder.Actions and inspect.Actions.
resource "aws_iam_role" "responder" {
  name_prefix        = "vpcprobe-responder-"
  description        = "The vpcprobe responder: read the failed task, run probe functions named vpcprobe-*, read the VPC, write claims, diagnoses and events"
  assume_role_policy = data.aws_iam_policy_document.lambda_trust.json
}

resource "aws_iam_role_policy" "responder" {
  role = aws_iam_role.responder.id
  name = "vpcprobe-responder"
  policy = jsonencode({
    Version = "2012-10-17"
    Statement = [
      { Sid = "ReadFailedTask", Effect = "Allow", Action = local.ecs_actions, Resource = "*" },
      { Sid = "ProbeFunctions", Effect = "Allow", Action = local.lambda_actions, Resource = "arn:${local.partition}:lambda:${local.region}:${local.account}:function:vpcprobe-*" },
      { Sid = "SweepProbeFunctions", Effect = "Allow", Action = "lambda:ListFunctions", Resource = "*" },
      {
        Sid       = "PassProbeRole"
        Effect    = "Allow"
        Action    = "iam:PassRole"
        Resource  = aws_iam_role.probe.arn
        Condition = { StringEquals = { "iam:PassedToService" = "lambda.amazonaws.com" } }
      },
      { Sid = "ReadVpcConfiguration", Effect = "Allow", Action = local.inspect_actions, Resource = "*" },
      { Sid = "Claims", Effect = "Allow", Action = local.claims_actions, Resource = aws_dynamodb_table.claims.arn },
      {
        Sid      = "Diagnoses"
        Effect   = "Allow"
        Action   = ["logs:CreateLogStream", "logs:PutLogEvents"]
        Resource = ["${aws_cloudwatch_log_group.diagnoses.arn}", "${aws_cloudwatch_log_group.diagnoses.arn}:*", "${aws_cloudwatch_log_group.function.arn}", "${aws_cloudwatch_log_group.function.arn}:*"]
      },
      { Sid = "DiagnosisEvents", Effect = "Allow", Action = "events:PutEvents", Resource = "arn:${local.partition}:events:${local.region}:${local.account}:event-bus/default" },
    ]
  })
}

resource "aws_lambda_function" "responder" {
  function_name                  = local.function
  description                    = "vpcprobe responder: diagnoses every ECS task of this region that fails to start, from the task's own subnet"
  runtime                        = "provided.al2023"
  handler                        = "bootstrap"
  architectures                  = [var.architecture]
  filename                       = var.zip_path
  source_code_hash               = filebase64sha256(var.zip_path)
  role                           = aws_iam_role.responder.arn
  memory_size                    = 256
  timeout                        = 300
  reserved_concurrent_executions = var.concurrency
  depends_on                     = [aws_cloudwatch_log_group.function]

  environment {
    variables = {
      VPCPROBE_RESPONDER_TABLE      = aws_dynamodb_table.claims.name
      VPCPROBE_RESPONDER_LOG_GROUP  = aws_cloudwatch_log_group.diagnoses.name
      VPCPROBE_RESPONDER_PROBE_ROLE = aws_iam_role.probe.arn
      VPCPROBE_RESPONDER_WINDOW     = var.window
      VPCPROBE_RESPONDER_MAX_ALIVE  = tostring(var.max_probes)
    }
  }
}

resource "aws_cloudwatch_event_rule" "failed_starts" {
  name        = "${var.name}-vpcprobe-failed-starts"
  description = "Every ECS task of this region that stops because it failed to start goes to the vpcprobe responder."
  event_pattern = jsonencode({
    source        = ["aws.ecs"]
    "detail-type" = ["ECS Task State Change"]
    detail = {
      lastStatus = ["STOPPED"]
      stopCode   = ["TaskFailedToStart"]
    }
  })
}

resource "aws_cloudwatch_event_target" "responder" {
  rule = aws_cloudwatch_event_rule.failed_starts.name
  arn  = aws_lambda_function.responder.arn
}

resource "aws_lambda_permission" "events" {
  statement_id  = "vpcprobe-failed-starts"
  action        = "lambda:InvokeFunction"
  function_name = aws_lambda_function.responder.function_name
  principal     = "events.amazonaws.com"
  source_arn    = aws_cloudwatch_event_rule.failed_starts.arn
}

resource "aws_cloudwatch_metric_alarm" "failed_starts" {
  alarm_name          = "${var.name}-vpcprobe-failed-starts"
  alarm_description   = "ECS tasks are failing to start in this region. Each has a diagnosis in ${local.log_group} (type = \"diagnosis\") and a 'vpcprobe Diagnosis' event, naming the cause and the fix."
  namespace           = "VPCProbe"
  metric_name         = "FailedStarts"
  dimensions          = { Responder = local.function }
  statistic           = "Sum"
  period              = 3600
  evaluation_periods  = 1
  threshold           = var.alarm_per_hour
  comparison_operator = "GreaterThanOrEqualToThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_topic_arn == "" ? [] : [var.alarm_topic_arn]
  ok_actions          = var.alarm_topic_arn == "" ? [] : [var.alarm_topic_arn]
}
