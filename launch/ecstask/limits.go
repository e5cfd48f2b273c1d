package ecstask

// MaxSecurityGroups is ECS's limit on a task's security groups (AwsVpcConfiguration
// securityGroups: "There's a limit of 5 security groups that can be specified", ECS API
// reference, https://docs.aws.amazon.com/AmazonECS/latest/APIReference/API_AwsVpcConfiguration.html).
const MaxSecurityGroups = 5
