package stopped

import (
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/checks"
	"github.com/vpcprobe/vpcprobe/report"
)

// taskARN places the tasks of the table in eu-west-1, account 123456789012: where a reason
// names no host, the catalogue's host and endpoint service come from it.
const taskARN = "arn:aws:ecs:eu-west-1:123456789012:task/prod/0123456789abcdef0123456789abcdef"

// TestTranslateEndpoints checks that a diagnosis names the endpoint to create, from the host
// the reason named or the task's region, including the gateway type of S3.
func TestTranslateEndpoints(t *testing.T) {
	tests := []struct {
		name, reason, host, endpoint, typ string
	}{
		{"host from the reason", `unable to retrieve ecr registry auth: Post "https://api.ecr.us-east-2.amazonaws.com/": dial tcp 192.0.2.1:443: i/o timeout`,
			"api.ecr.us-east-2.amazonaws.com", "com.amazonaws.eu-west-1.ecr.api", "interface"},
		{"host from the catalogue", `unable to retrieve secrets from ssm: RequestCanceled: request context canceled caused by: context deadline exceeded`,
			"ssm.eu-west-1.amazonaws.com", "com.amazonaws.eu-west-1.ssm", "interface"},
		{"layer bucket is a gateway", `failed to copy: httpReadSeeker: failed open: failed to do request: Get REDACTED ECR URL related to 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app`,
			"prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com", "com.amazonaws.eu-west-1.s3", "gateway"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := Translate(Task{ARN: taskARN, StopCode: "TaskFailedToStart", StoppedReason: tt.reason})
			if len(ds) != 1 {
				t.Fatalf("diagnoses %+v", ds)
			}
			if d := ds[0]; d.Host != tt.host || d.EndpointService != tt.endpoint || d.EndpointType != tt.typ {
				t.Errorf("host %q endpoint %q %q, want %q %q %q", d.Host, d.EndpointService, d.EndpointType, tt.host, tt.endpoint, tt.typ)
			}
		})
	}
}

// TestTranslateStopCodes covers tasks whose reasons say nothing the table knows: the stop code
// decides, and a task whose essential container merely exited has no diagnosis.
func TestTranslateStopCodes(t *testing.T) {
	exit1 := int32(1)
	tests := []struct {
		name  string
		task  Task
		code  checks.Code
		cause string // "" for no diagnosis
	}{
		{"exited", Task{StopCode: "EssentialContainerExited", StoppedReason: "Essential container in task exited",
			Containers: []Container{{Name: "app", ExitCode: &exit1}}}, "", ""},
		{"user", Task{StopCode: "UserInitiated", StoppedReason: "Task stopped by user"}, Stopped, CauseStopped},
		// Spot's own words say it: not the network (the Fargate capacity providers guide).
		{"spot", Task{StopCode: "SpotInterruption", StoppedReason: "Your Spot Task was interrupted."}, Stopped, CauseNotNetwork},
		{"spot, no words", Task{StopCode: "SpotInterruption", StoppedReason: "Task stopped"}, Stopped, CauseStopped},
		{"failed to start, unknown reason", Task{StopCode: "TaskFailedToStart", StoppedReason: "",
			Containers: []Container{{Name: "app", Reason: "DockerTimeoutError: Could not transition to started"}}}, Unknown, CauseFailedToStart},
		{"unknown reason", Task{StoppedReason: "Something new"}, Unknown, CauseUnknown},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.task.ARN = taskARN
			ds := Translate(tt.task)
			if tt.cause == "" {
				if len(ds) != 0 {
					t.Errorf("diagnoses %+v, want none", ds)
				}
				return
			}
			if len(ds) != 1 || ds[0].Error != tt.code || ds[0].Cause != tt.cause {
				t.Errorf("diagnoses %+v, want %s %s", ds, tt.code, tt.cause)
			}
		})
	}
}

// TestTranslateMerges keeps one diagnosis when the stopped reason repeats a container's, and
// drops a generic reason next to a specific one.
func TestTranslateMerges(t *testing.T) {
	pull := `CannotPullContainerError: API error (500): Get https://XXX.dkr.ecr.us-east-1.amazonaws.com/v2/: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)`
	ds := Translate(Task{ARN: taskARN, StopCode: "TaskFailedToStart", StoppedReason: "Task failed to start",
		Containers: []Container{{Name: "app", Reason: pull}, {Name: "sidecar", Reason: pull}}})
	if len(ds) != 1 || ds[0].Service != "ecr.dkr" || ds[0].Source != "container:app" {
		t.Errorf("diagnoses %+v", ds)
	}
}

func TestRedact(t *testing.T) {
	in := `Get "https://prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com/a/b?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=ASIA%2F&X-Amz-Signature=abc123" and X-Amz-Security-Token=tok`
	out := Redact(in)
	for _, secret := range []string{"abc123", "ASIA", "=tok"} {
		if strings.Contains(out, secret) {
			t.Errorf("redact left %q in %q", secret, out)
		}
	}
	if !strings.Contains(out, "prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com/a/b") {
		t.Errorf("redact removed the host and path: %q", out)
	}
}

// TestServiceOfHost: the host a call went to decides the service, FIPS, dual-stack and numbered
// agent hosts and China's suffix included; hosts outside AWS never name a service.
func TestServiceOfHost(t *testing.T) {
	tests := []struct{ host, service string }{
		{"api.ecr.eu-west-1.amazonaws.com", "ecr.api"},
		{"api.ecr-fips.us-gov-west-1.amazonaws.com", "ecr.api"},
		{"ecr-fips.us-east-1.amazonaws.com", "ecr.api"},
		{"ecr.eu-west-1.amazonaws.com", "ecr.api"},
		{"api.ecr.cn-north-1.amazonaws.com.cn", "ecr.api"},
		{"123456789012.dkr.ecr.eu-west-1.amazonaws.com", "ecr.dkr"},
		{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com", "ecr.dkr"},
		{"123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn", "ecr.dkr"},
		{"123456789012.dkr-ecr.eu-west-1.on.aws", "ecr.dkr"},
		{"prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com", "s3"},
		{"prod-cn-north-1-starport-layer-bucket.s3.cn-north-1.amazonaws.com.cn", "s3"},
		{"s3.eu-west-1.amazonaws.com", "s3"},
		{"s3-fips.us-gov-west-1.amazonaws.com", "s3"},
		{"logs.eu-west-1.amazonaws.com", "logs"},
		{"logs-fips.us-gov-west-1.amazonaws.com", "logs"},
		{"secretsmanager.eu-west-1.amazonaws.com", "secretsmanager"},
		{"secretsmanager-fips.us-east-1.amazonaws.com", "secretsmanager"},
		{"ssm.eu-west-1.amazonaws.com", "ssm"},
		{"ssm-fips.us-gov-west-1.amazonaws.com", "ssm"},
		{"ssmmessages.eu-west-1.amazonaws.com", "ssmmessages"},
		{"kms.eu-west-1.amazonaws.com", "kms"},
		{"sts.cn-north-1.amazonaws.com.cn", "sts"},
		{"ecs.eu-west-1.amazonaws.com", "ecs"},
		{"ecs-fips.us-gov-west-1.amazonaws.com", "ecs"},
		{"ecs-a-3.eu-west-1.amazonaws.com", "ecs-agent"},
		{"ecs-a.eu-west-1.amazonaws.com", "ecs-agent"},
		{"ecs-t-12.us-gov-west-1.amazonaws.com", "ecs-telemetry"},
		{"fs-0123456789abcdef0.efs.us-east-1.amazonaws.com", ""},
		{"registry-1.docker.io", ""},
		{"logs.example.com", ""},
		{"api.ecr.eu-west-1.amazonaws.com.example.net", ""},
	}
	for _, tt := range tests {
		if got := serviceOfHost(tt.host); got != tt.service {
			t.Errorf("serviceOfHost(%s) = %q, want %q", tt.host, got, tt.service)
		}
	}
}

// TestTranslateHostDecides: a reason whose words name no step precisely (a generic
// ResourceInitializationError, a pull) is about the service of the host it names; words inside
// an image name (a repository awslogs-router or secretsmanager-sync) name nothing.
func TestTranslateHostDecides(t *testing.T) {
	tests := []struct {
		name, reason, service, cause string
	}{
		{"registry login through the FIPS host",
			`ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: service call has been retried 3 time(s): RequestError: send request failed caused by: Post "https://api.ecr-fips.us-gov-west-1.amazonaws.com/": dial tcp 10.0.1.5:443: i/o timeout`,
			"ecr.api", CauseRegistryAuth},
		{"logs host in a resource error",
			`ResourceInitializationError: service call has been retried 3 time(s): RequestError: send request failed caused by: Post "https://logs.eu-west-1.amazonaws.com/": dial tcp 10.0.2.7:443: i/o timeout`,
			"logs", CauseLogger},
		{"secrets manager host",
			`ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: RequestError: send request failed caused by: Post "https://secretsmanager.eu-west-1.amazonaws.com/": dial tcp 52.94.1.1:443: i/o timeout`,
			"secretsmanager", CauseSecrets},
		{"ssm FIPS host",
			`ResourceInitializationError: unable to pull secrets or registry auth: RequestError: send request failed caused by: Post "https://ssm-fips.us-east-1.amazonaws.com/": dial tcp 10.0.4.4:443: i/o timeout`,
			"ssm", CauseSecrets},
		{"registry API host in a pull",
			`CannotPullContainerError: Error response from daemon: Get "https://api.ecr.eu-west-1.amazonaws.com/": dial tcp 10.0.1.9:443: i/o timeout`,
			"ecr.api", CauseRegistryAuth},
		{"layer bucket host in a pull",
			`CannotPullContainerError: error pulling image: Get "https://prod-eu-west-1-starport-layer-bucket.s3.eu-west-1.amazonaws.com/abc": dial tcp 52.218.1.1:443: i/o timeout`,
			"s3", CauseLayerDownload},
		{"repository named awslogs-router",
			`CannotPullContainerError: failed to resolve ref 123456789012.dkr.ecr.eu-west-1.amazonaws.com/awslogs-router:latest: failed to do request: Head "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/awslogs-router/manifests/latest": dial tcp 10.0.3.12:443: i/o timeout`,
			"ecr.dkr", CauseImagePull},
		{"repository named secretsmanager-sync",
			`CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref 123456789012.dkr.ecr.eu-west-1.amazonaws.com/secretsmanager-sync:latest: failed to do request: Head "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/secretsmanager-sync/manifests/latest": dial tcp 10.0.3.12:443: i/o timeout`,
			"ecr.dkr", CauseImagePull},
		{"Docker Hub image with ecr in no word",
			`CannotPullContainerError: pull image manifest has been retried 5 time(s): failed to resolve ref docker.io/library/secretary:1: failed to do request: Head "https://registry-1.docker.io/v2/library/secretary/manifests/1": dial tcp 54.1.2.3:443: i/o timeout`,
			"", CauseImagePull},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := Translate(Task{ARN: taskARN, StopCode: "TaskFailedToStart", StoppedReason: tt.reason})
			if len(ds) != 1 || ds[0].Service != tt.service || ds[0].Cause != tt.cause || ds[0].Error != checks.Timeout {
				t.Fatalf("diagnoses %+v, want %s %s timeout", ds, tt.service, tt.cause)
			}
		})
	}
}

// TestTranslateAddress: the address a reason dialled says whether the endpoint exists. A
// private one (RFC 1918, 100.64/10) is a security group or network ACL on the way, with both
// groups named and no "create the endpoint"; a public one is no interface endpoint answering
// for the name (or, for S3, no gateway route).
func TestTranslateAddress(t *testing.T) {
	auth := `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post "https://api.ecr.eu-west-1.amazonaws.com/": dial tcp %s:443: i/o timeout`
	tests := []struct {
		name, reason, service, route string
		create                       bool // the fix creates an endpoint rather than opening security groups
	}{
		{"private endpoint", strings.ReplaceAll(auth, "%s", "10.0.1.5"), "ecr.api", report.RoutePrivate, false},
		{"private in 100.64/10", strings.ReplaceAll(auth, "%s", "100.64.3.4"), "ecr.api", report.RoutePrivate, false},
		{"private in 172.16/12", strings.ReplaceAll(auth, "%s", "172.31.9.9"), "ecr.api", report.RoutePrivate, false},
		{"public address", strings.ReplaceAll(auth, "%s", "35.180.244.40"), "ecr.api", report.RoutePublic, true},
		{"registry, private", `CannotPullContainerError: failed to resolve ref 123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1: failed to do request: Head "https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/app/manifests/1": dial tcp 10.0.3.12:443: i/o timeout`,
			"ecr.dkr", report.RoutePrivate, false},
		{"layer bucket, public", `CannotPullContainerError: ref pull has been retried 5 time(s): failed to copy: httpReadSeeker: failed open: failed to do request: Get 626394096352.dkr.ecr.eu-west-1.amazonaws.com/app:1: dial tcp 52.219.199.138:443: i/o timeout`,
			"s3", report.RoutePublic, true},
		{"secrets, no address", `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 5 time(s): RequestCanceled: request context canceled caused by: context deadline exceeded.`,
			"ssm", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := Translate(Task{ARN: taskARN, StopCode: "TaskFailedToStart", StoppedReason: tt.reason})
			if len(ds) != 1 {
				t.Fatalf("diagnoses %+v", ds)
			}
			d := ds[0]
			if d.Service != tt.service || d.Route != tt.route || d.Error != checks.Timeout {
				t.Fatalf("service %q route %q error %q, want %q %q timeout", d.Service, d.Route, d.Error, tt.service, tt.route)
			}
			creates := strings.HasPrefix(d.Remediation, "Create ")
			if creates != tt.create {
				t.Errorf("creates an endpoint: %v, want %v: %s", creates, tt.create, d.Remediation)
			}
			if tt.route == report.RoutePrivate && (!strings.Contains(d.Remediation, "security group of the interface endpoint "+d.EndpointService) ||
				!strings.Contains(d.Remediation, "in the task's security group") || !strings.Contains(d.Remediation, "network ACLs")) {
				t.Errorf("a private-address timeout must name the endpoint's group, the task's group and the ACLs: %s", d.Remediation)
			}
		})
	}
}

// TestTranslateNextHops: a diagnosis names every hop of the start the task still needs, with
// its endpoint in the region's partition (a registry-login timeout in an isolated subnet means
// ecr.dkr, S3 and logs come next), and none where the region is unknown.
func TestTranslateNextHops(t *testing.T) {
	authTimeout := `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve ecr registry auth: service call has been retried 3 time(s): RequestError: send request failed caused by: Post "https://api.ecr.%s/": dial tcp 10.0.1.5:443: i/o timeout`
	tests := []struct {
		name   string
		task   Task
		next   []string // service=endpoint service
		nohops bool
	}{
		{"registry login, eu-west-1", Task{ARN: taskARN, StoppedReason: strings.ReplaceAll(authTimeout, "%s", "eu-west-1.amazonaws.com")},
			[]string{"ecr.dkr=com.amazonaws.eu-west-1.ecr.dkr", "s3=com.amazonaws.eu-west-1.s3", "logs=com.amazonaws.eu-west-1.logs"}, false},
		{"registry login, cn-north-1", Task{ARN: "arn:aws-cn:ecs:cn-north-1:123456789012:task/prod/0123", StoppedReason: strings.ReplaceAll(authTimeout, "%s", "cn-north-1.amazonaws.com.cn")},
			[]string{"ecr.dkr=cn.com.amazonaws.cn-north-1.ecr.dkr", "s3=com.amazonaws.cn-north-1.s3", "logs=com.amazonaws.cn-north-1.logs"}, false}, // S3: the gateway, com.amazonaws.… in China too (eksctl fixture, CDK)
		{"registry login, us-gov-west-1", Task{ARN: "arn:aws-us-gov:ecs:us-gov-west-1:123456789012:task/prod/0123", StoppedReason: strings.ReplaceAll(authTimeout, "%s", "us-gov-west-1.amazonaws.com")},
			[]string{"ecr.dkr=com.amazonaws.us-gov-west-1.ecr.dkr", "s3=com.amazonaws.us-gov-west-1.s3", "logs=com.amazonaws.us-gov-west-1.logs"}, false},
		{"registry login, region unknown", Task{StoppedReason: `unable to retrieve ecr registry auth: RequestCanceled: request context canceled caused by: context deadline exceeded`},
			[]string{"ecr.dkr=", "s3=", "logs="}, false},
		{"manifest", Task{ARN: taskARN, StoppedReason: `CannotPullContainerError: API error (500): Get https://123456789012.dkr.ecr.eu-west-1.amazonaws.com/v2/: net/http: request canceled while waiting for connection (Client.Timeout exceeded while awaiting headers)`},
			[]string{"s3=com.amazonaws.eu-west-1.s3", "logs=com.amazonaws.eu-west-1.logs"}, false},
		{"layers", Task{ARN: taskARN, StoppedReason: `ref pull has been retried 5 time(s): failed to copy: httpReadSeeker: failed open: failed to do request: Get REDACTED ECR URL related to 123456789012.dkr.ecr.eu-west-1.amazonaws.com/myapp`},
			[]string{"logs=com.amazonaws.eu-west-1.logs"}, false},
		{"logs", Task{ARN: taskARN, StoppedReason: `ResourceInitializationError: failed to validate logger args: The task cannot find the Amazon CloudWatch log group defined in the task definition. There is a connection issue between the task and Amazon CloudWatch. Check your network configuration. signal: killed`},
			[]string{"ecr.api=com.amazonaws.eu-west-1.ecr.api", "ecr.dkr=com.amazonaws.eu-west-1.ecr.dkr", "s3=com.amazonaws.eu-west-1.s3"}, false},
		{"secrets", Task{ARN: taskARN, StoppedReason: `ResourceInitializationError: unable to pull secrets or registry auth: execution resource retrieval failed: unable to retrieve secrets from ssm: service call has been retried 5 time(s): RequestCanceled: request context canceled caused by: context deadline exceeded.`},
			[]string{"ecr.api=com.amazonaws.eu-west-1.ecr.api", "ecr.dkr=com.amazonaws.eu-west-1.ecr.dkr", "s3=com.amazonaws.eu-west-1.s3", "logs=com.amazonaws.eu-west-1.logs"}, false},
		{"capacity", Task{ARN: taskARN, StoppedReason: `Capacity is unavailable at this time. Please try again later or in a different availability zone`}, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ds := Translate(tt.task)
			if len(ds) != 1 {
				t.Fatalf("diagnoses %+v", ds)
			}
			var got []string
			for _, h := range ds[0].Next {
				got = append(got, h.Service+"="+h.EndpointService)
				if h.EndpointType == "" {
					t.Errorf("hop %s without endpoint type", h.Service)
				}
			}
			if strings.Join(got, " ") != strings.Join(tt.next, " ") {
				t.Errorf("next hops %v, want %v", got, tt.next)
			}
			for _, h := range ds[0].Next {
				if h.EndpointService != "" && !strings.Contains(ds[0].Remediation, h.EndpointService) {
					t.Errorf("the remediation does not name %s: %s", h.EndpointService, ds[0].Remediation)
				}
			}
		})
	}
}

// TestTranslatePartitions: names follow the task's partition (cn. endpoint services and
// arn:aws-cn in China, arn:aws-us-gov in GovCloud); with no region anywhere, no name is built
// with an empty region and the remediation says to give --region.
func TestTranslatePartitions(t *testing.T) {
	layerDenied := `CannotPullContainerError: ref pull has been retried 1 time(s): failed to copy: httpReaderSeeker: failed open: unexpected status code https://prod-%s-starport-layer-bucket.s3.%s/abc: 403 Forbidden`
	noHost := "The task can\u2019t pull the image. Check your network configuration"
	authTimeout := `unable to retrieve ecr registry auth: RequestCanceled: request context canceled caused by: context deadline exceeded`
	tests := []struct {
		name, region, suffix, arnPrefix, endpoint, s3Gateway string
	}{
		// China's S3 gateway keeps com.amazonaws. (eksctl's DescribeVpcEndpointServices fixture, CDK).
		{"china", "cn-north-1", "cn-north-1.amazonaws.com.cn", "arn:aws-cn:", "cn.com.amazonaws.cn-north-1.", "com.amazonaws.cn-north-1.s3"},
		{"govcloud", "us-gov-west-1", "us-gov-west-1.amazonaws.com", "arn:aws-us-gov:", "com.amazonaws.us-gov-west-1.", "com.amazonaws.us-gov-west-1.s3"},
		{"commercial", "eu-west-1", "eu-west-1.amazonaws.com", "arn:aws:", "com.amazonaws.eu-west-1.", "com.amazonaws.eu-west-1.s3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			task := Task{Region: tt.region, StopCode: "TaskFailedToStart"}
			task.StoppedReason = strings.ReplaceAll(strings.Replace(layerDenied, "%s", tt.region, 1), "%s", tt.suffix)
			d := Translate(task)[0]
			if d.Service != "s3" || d.Error != checks.AccessDenied || d.EndpointService != tt.s3Gateway {
				t.Fatalf("layer denial: %+v", d)
			}
			if !strings.Contains(d.Remediation, tt.arnPrefix+"s3:::prod-"+tt.region+"-starport-layer-bucket/*") {
				t.Errorf("the layer bucket ARN is not in %s: %s", tt.arnPrefix, d.Remediation)
			}
			if tt.arnPrefix != "arn:aws:" && strings.Contains(d.Diagnosis+d.Remediation, "arn:aws:") {
				t.Errorf("arn:aws: in %s: %s", tt.region, d.Diagnosis+d.Remediation)
			}
			task.StoppedReason = noHost
			d = Translate(task)[0]
			for _, key := range []string{"ecr.api", "ecr.dkr"} {
				if !strings.Contains(d.Remediation, tt.endpoint+key) {
					t.Errorf("no %s%s in %s", tt.endpoint, key, d.Remediation)
				}
			}
			task.StoppedReason = authTimeout
			d = Translate(task)[0]
			if d.EndpointService != tt.endpoint+"ecr.api" || d.Host != "api.ecr."+tt.suffix {
				t.Errorf("registry login: endpoint %q host %q", d.EndpointService, d.Host)
			}
		})
	}
	t.Run("no region", func(t *testing.T) {
		for _, reason := range []string{layerDenied, noHost, authTimeout} {
			reason = strings.ReplaceAll(reason, "https://prod-%s-starport-layer-bucket.s3.%s/abc", "REDACTED ECR URL")
			ds := Translate(Task{StopCode: "TaskFailedToStart", StoppedReason: reason})
			if len(ds) != 1 {
				t.Fatalf("diagnoses %+v", ds)
			}
			d := ds[0]
			all := d.Host + d.EndpointService + d.Diagnosis + d.Remediation
			if d.EndpointService != "" || strings.Contains(all, "com.amazonaws.") || strings.Contains(all, "..") || strings.Contains(all, "prod--") {
				t.Errorf("a name built with no region: %+v", d)
			}
			if !strings.Contains(d.Remediation, "--region") {
				t.Errorf("the remediation does not say the region is unknown: %s", d.Remediation)
			}
		}
	})
	t.Run("unsupported partition", func(t *testing.T) {
		d := Translate(Task{Region: "us-iso-east-1", StoppedReason: authTimeout})[0]
		if d.EndpointService != "" || strings.Contains(d.Remediation, "com.amazonaws.") {
			t.Errorf("an ISO endpoint name vpcprobe cannot verify: %+v", d)
		}
	})
}
