variable "name" {
  description = "Prefix of every resource's name (the function is <name>-vpcprobe-responder)."
  type        = string
  default     = "vpcprobe"
}

variable "zip_path" {
  description = "Path of the vpcprobe Lambda zip (bootstrap inside): scripts/release builds it."
  type        = string
}

variable "architecture" {
  description = "The architecture the zip's bootstrap was built for: arm64 or x86_64."
  type        = string
  default     = "arm64"
  validation {
    condition     = contains(["arm64", "x86_64"], var.architecture)
    error_message = "architecture must be arm64 or x86_64."
  }
}

variable "log_group_name" {
  description = "The probe's log group; diagnoses go to <log_group_name>/responder."
  type        = string
  default     = "/vpcprobe"
}

variable "log_retention_days" {
  description = "How long diagnoses are kept."
  type        = number
  default     = 30
}

variable "window" {
  description = "How long one live probe stands for its cause (subnet, security groups, needs)."
  type        = string
  default     = "15m"
  validation {
    condition     = can(regex("^[0-9]+(s|m|h)$", var.window))
    error_message = "window is a duration such as 15m."
  }
}

variable "max_probes" {
  description = "Most probe functions alive at once in the account."
  type        = number
  default     = 10
}

variable "concurrency" {
  description = "The responder's reserved concurrency."
  type        = number
  default     = 10
}

variable "alarm_per_hour" {
  description = "The failed-starts alarm fires at this many failed starts in an hour."
  type        = number
  default     = 1
}

variable "alarm_topic_arn" {
  description = "SNS topic notified when the alarm changes state; empty: none."
  type        = string
  default     = ""
}
