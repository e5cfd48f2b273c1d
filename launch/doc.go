// Package launch is what a launch of the probe in many subnets produces, whichever runner
// started it (launch/ecstask: ECS tasks; launch/lambdafn: Lambda functions): the combined report
// and its views, the application task it reproduces (--for-task), and the inspection of the
// subnets' VPCs read while the probes run and joined to their results.
package launch
