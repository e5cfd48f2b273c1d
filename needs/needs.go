// Package needs reads an application's ECS task definition and derives what its tasks need from
// the network: the catalogue services to probe (in the task's region and in others), the image
// whose pull path to verify, the secrets and parameters to fetch as ECS does, and notes for what
// vpcprobe cannot probe (internet registries, EFS mount targets, FireLens outputs). The probe's
// --for-task-definition and the launcher's --for-task-definition and --for-task use it; it makes
// no decision about exit codes or output.
package needs

import (
	"fmt"
	"slices"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
)

// Note codes: stable, so that tests and scripts can match on them.
const (
	// NoteInternetRegistry: an image from a registry outside ECR (Docker Hub, ghcr.io,
	// public.ecr.aws, …): an internet host that an isolated subnet can never reach.
	NoteInternetRegistry = "internet-registry"
	// NoteOtherRegion: something lives in another region (an image, a log group, a secret, a
	// parameter) and needs that region's endpoints, which the probe of this region does not test.
	NoteOtherRegion = "other-region"
	// NoteECRFIPS: an image from a FIPS registry host (dkr.ecr-fips), which the probe's image
	// check does not pull from.
	NoteECRFIPS = "ecr-fips"
	// NoteImageInvalid: an ECR image URI the probe's image check would refuse.
	NoteImageInvalid = "image-invalid"
	// NoteImagesNotPulled: more ECR images than the one the probe pulls; they share its endpoints.
	NoteImagesNotPulled = "images-not-pulled"
	// NoteCreateGroup: awslogs-create-group is on: the execution role needs logs:CreateLogGroup.
	NoteCreateGroup = "awslogs-create-group"
	// NoteLogDriver: a log driver other than awslogs and awsfirelens sends logs to hosts vpcprobe
	// does not know (splunk, fluentd, gelf, syslog, …).
	NoteLogDriver = "log-driver"
	// NoteFirelensOutput: a FireLens output other than CloudWatch Logs, not probed.
	NoteFirelensOutput = "firelens-output"
	// NoteEFSMount: an EFS volume: NFS to a mount target on TCP 2049 in the task's VPC, which the
	// probe cannot test by name.
	NoteEFSMount = "efs-mount"
	// NoteEFSIAM: an EFS volume with IAM authorization: the elasticfilesystem endpoint matters too,
	// and it is not a catalogue service.
	NoteEFSIAM = "efs-iam"
	// NoteExecHint: initProcessEnabled suggests ECS Exec, which the task definition cannot say.
	NoteExecHint = "exec-hint"
	// NoteS3Object: environment files (or a FireLens configuration) read from an S3 object: the
	// S3 path is probed with the ECR layer bucket, but the endpoint policy must allow this object.
	NoteS3Object = "s3-object"
	// NoteSecretUnknown: a valueFrom that is an ARN of neither Secrets Manager nor SSM.
	NoteSecretUnknown = "secret-unrecognised"
	// NoteExecutionRole: the execution role pulls images, reads secrets and writes awslogs; the
	// probe's own calls use its own role.
	NoteExecutionRole = "execution-role"
	// NoteNoExecutionRole: the task pulls from ECR, reads secrets or logs with awslogs without an
	// execution role: ECS cannot do those for it.
	NoteNoExecutionRole = "no-execution-role"
	// NoteTaskRole: the application's own calls use the task role.
	NoteTaskRole = "task-role"
)

// Needs is what a task definition needs from the network, as flags of the probe can test it, and
// the notes on what they cannot.
type Needs struct {
	TaskDefinition string `json:"task_definition"` // its ARN, else family:revision, else family
	Region         string `json:"region"`          // the region its tasks run in
	// Services are the catalogue keys to probe in Region, deduplicated, in catalogue order.
	Services []string `json:"services"`
	// Image is the ECR image in Region whose pull path the probe verifies (--image); empty when
	// there is none.
	Image  string  `json:"image,omitempty"`
	Images []Image `json:"images"`
	// Secrets and Parameters are the valueFrom strings in Region, as ECS reads them (a Secrets
	// Manager ARN keeps its :json-key:version-stage:version-id suffix): --secret and --parameter.
	Secrets    []string `json:"secrets,omitempty"`
	Parameters []string `json:"parameters,omitempty"`
	// OtherRegions are what lives in other regions, one entry per region in the order found.
	OtherRegions     []RegionNeeds `json:"other_regions,omitempty"`
	ExecutionRoleARN string        `json:"execution_role_arn,omitempty"`
	TaskRoleARN      string        `json:"task_role_arn,omitempty"`
	Notes            []Note        `json:"notes"`
}

// RegionNeeds is what a task needs in a region other than its own: run the probe again with
// --region Region (from where that region's endpoints are reached) to test it.
type RegionNeeds struct {
	Region     string   `json:"region"`
	Services   []string `json:"services"`
	Secrets    []string `json:"secrets,omitempty"`
	Parameters []string `json:"parameters,omitempty"`
}

// Note is something a task needs that the derived flags do not test, or a fact the user needs
// to read the probe's result right.
type Note struct {
	Code      string `json:"code"`
	Container string `json:"container,omitempty"`
	Subject   string `json:"subject,omitempty"` // the image, secret, file system or role concerned
	Region    string `json:"region,omitempty"`
	Text      string `json:"text"`
}

// Options are what a task definition does not say about its tasks.
type Options struct {
	// Region is where the tasks run when the task definition has no ARN (a file's); an ARN's
	// region wins.
	Region string
	// ExecuteCommand: the task or its service has enableExecuteCommand (ECS Exec), a setting of
	// the task, not of its definition.
	ExecuteCommand bool
}

// Derive returns what td's tasks need. It makes no call: everything comes from td and o.
func Derive(td *types.TaskDefinition, o Options) *Needs {
	d := &deriver{n: &Needs{Region: o.Region, Images: []Image{}, Notes: []Note{}}, want: map[string][]string{}}
	n := d.n
	arn := aws.ToString(td.TaskDefinitionArn)
	if _, _, region, _, _, ok := catalogue.ParseARN(arn); ok && region != "" {
		n.Region = region
	}
	n.TaskDefinition = arn
	if n.TaskDefinition == "" {
		n.TaskDefinition = aws.ToString(td.Family)
		if td.Revision > 0 {
			n.TaskDefinition += fmt.Sprintf(":%d", td.Revision)
		}
	}
	n.ExecutionRoleARN, n.TaskRoleARN = aws.ToString(td.ExecutionRoleArn), aws.ToString(td.TaskRoleArn)

	initProcess := ""
	for _, c := range td.ContainerDefinitions {
		name := aws.ToString(c.Name)
		d.image(name, aws.ToString(c.Image), c.FirelensConfiguration != nil)
		if rc := c.RepositoryCredentials; rc != nil && aws.ToString(rc.CredentialsParameter) != "" {
			// Private registry credentials are always a Secrets Manager secret, by ARN or name.
			d.secretsManager(name, aws.ToString(rc.CredentialsParameter))
		}
		for _, s := range c.Secrets {
			d.valueFrom(name, aws.ToString(s.ValueFrom))
		}
		for _, f := range c.EnvironmentFiles {
			d.s3Object(name, aws.ToString(f.Value), "environment file")
		}
		if lc := c.LogConfiguration; lc != nil {
			d.logging(name, lc)
		}
		if fc := c.FirelensConfiguration; fc != nil && fc.Options["config-file-type"] == "s3" {
			d.s3Object(name, fc.Options["config-file-value"], "FireLens configuration file")
		}
		if lp := c.LinuxParameters; lp != nil && aws.ToBool(lp.InitProcessEnabled) && initProcess == "" {
			initProcess = name
		}
	}
	for _, v := range td.Volumes {
		if efs := v.EfsVolumeConfiguration; efs != nil {
			d.efs(aws.ToString(v.Name), efs)
		}
	}
	switch {
	case o.ExecuteCommand:
		d.need(n.Region, "ssmmessages")
	case initProcess != "":
		d.note(Note{Code: NoteExecHint, Container: initProcess, Text: "initProcessEnabled is on, as ECS Exec recommends; whether the task runs with ECS Exec is a setting of the task or service (enableExecuteCommand), not of the task definition: if it does, add ssmmessages to --services (launch: --enable-execute-command)."})
	}
	d.roles()
	d.finish()
	return n
}

// deriver accumulates one derivation.
type deriver struct {
	n       *Needs
	want    map[string][]string // region → service keys (unordered, may repeat)
	regions []string            // regions other than n.Region, in the order found
	ecr     []Image             // ECR images in n.Region that the probe can pull
	routers []Image             // the same, of FireLens log routers: AWS's image, pulled last
	usesExe bool                // something needs the execution role
}

func (d *deriver) note(n Note) { d.n.Notes = append(d.n.Notes, n) }

// need records that region needs the service key.
func (d *deriver) need(region, key string) {
	if region == "" {
		region = d.n.Region
	}
	if region != d.n.Region && !slices.Contains(d.regions, region) {
		d.regions = append(d.regions, region)
	}
	d.want[region] = append(d.want[region], key)
}

// other records a dependency in another region and notes it once per subject.
func (d *deriver) other(container, region, subject, what string) {
	d.note(Note{Code: NoteOtherRegion, Container: container, Subject: subject, Region: region,
		Text: fmt.Sprintf("%s is in %s, not the task's region %s: the task needs %s's endpoints (a NAT, or a route to a VPC there), which a probe of %s does not test; run the probe again with --region %s.",
			what, region, d.n.Region, region, d.n.Region, region)})
}

// image records a container's image: ECR in which region and account, or an internet host.
func (d *deriver) image(container, uri string, logRouter bool) {
	if uri == "" {
		return
	}
	img, rule := parseImage(container, uri)
	d.n.Images = append(d.n.Images, img)
	if img.Kind != KindECR {
		d.note(Note{Code: NoteInternetRegistry, Container: container, Subject: uri,
			Text: fmt.Sprintf("Image %s comes from %s, not ECR: %s. A subnet without a NAT or internet gateway can never pull it; copy it into ECR (for example with a pull-through cache rule) or give the subnet a route to the internet.", uri, rule.name, rule.why)})
		return
	}
	d.usesExe = true
	if _, ok := catalogue.ParseHost(img.Registry); !ok { // a region in another partition than the domain
		d.note(Note{Code: NoteImageInvalid, Container: container, Subject: uri,
			Text: fmt.Sprintf("Image %s names region %s with the wrong domain (%s wants %s): no task can pull it.", uri, img.Region, img.Region, catalogue.PartitionOf(img.Region).DNSSuffix)})
		return
	}
	for _, key := range []string{"ecr.api", "ecr.dkr", "s3"} {
		d.need(img.Region, key)
	}
	switch {
	case img.Region != d.n.Region:
		d.other(container, img.Region, uri, "The registry of image "+uri)
	case img.FIPS:
		d.note(Note{Code: NoteECRFIPS, Container: container, Subject: uri,
			Text: fmt.Sprintf("Image %s comes from a FIPS registry host; the probe does not pull it on its own: pass it with --image to probe that registry (the platform pulls from the host the image names, whatever AWS_USE_FIPS_ENDPOINT says).", uri)})
	default:
		if _, err := checks.ParseImage(uri); err != nil {
			d.note(Note{Code: NoteImageInvalid, Container: container, Subject: uri,
				Text: fmt.Sprintf("Image %s: %v; the probe checks the ECR endpoints but cannot pull it.", uri, err)})
			return
		}
		if logRouter {
			d.routers = append(d.routers, img)
		} else {
			d.ecr = append(d.ecr, img)
		}
	}
}

// valueFrom records a secrets entry as ECS reads it: a Secrets Manager ARN from Secrets Manager
// in the ARN's region; an SSM ARN, a name or a path from SSM Parameter Store (in the ARN's
// region, else the task's).
func (d *deriver) valueFrom(container, v string) {
	if v == "" {
		return
	}
	_, service, region, _, _, isARN := catalogue.ParseARN(v)
	switch {
	case isARN && service == "secretsmanager":
		d.secretsManager(container, v)
	case !isARN || service == "ssm":
		d.usesExe = true
		if region == "" {
			region = d.n.Region
		}
		d.need(region, "ssm")
		if region != d.n.Region {
			d.regionNeeds(region).Parameters = append(d.regionNeeds(region).Parameters, v)
			d.other(container, region, v, "SSM parameter "+v)
			return
		}
		if !slices.Contains(d.n.Parameters, v) {
			d.n.Parameters = append(d.n.Parameters, v)
		}
	default:
		d.note(Note{Code: NoteSecretUnknown, Container: container, Subject: v,
			Text: fmt.Sprintf("Secret %s is an ARN of %s, neither Secrets Manager nor SSM Parameter Store: ECS cannot read it.", v, service)})
	}
}

// secretsManager records a Secrets Manager secret, by ARN (its region) or name (the task's).
func (d *deriver) secretsManager(container, v string) {
	d.usesExe = true
	region := d.n.Region
	if _, _, r, _, _, ok := catalogue.ParseARN(v); ok && r != "" {
		region = r
	}
	d.need(region, "secretsmanager")
	if region != d.n.Region {
		d.regionNeeds(region).Secrets = append(d.regionNeeds(region).Secrets, v)
		d.other(container, region, v, "Secret "+v)
		return
	}
	if !slices.Contains(d.n.Secrets, v) {
		d.n.Secrets = append(d.n.Secrets, v)
	}
}

// s3Object records an object read from S3 (arn:aws:s3:::bucket/key): the S3 path, and a note on
// the gateway endpoint's policy.
func (d *deriver) s3Object(container, arn, what string) {
	if arn == "" {
		return
	}
	d.usesExe = true
	d.need(d.n.Region, "s3")
	d.note(Note{Code: NoteS3Object, Container: container, Subject: arn,
		Text: fmt.Sprintf("The %s %s is read from S3: the probe tests the S3 path with the ECR layer bucket; an S3 gateway endpoint's policy must also allow s3:GetObject on %s (and the bucket must be in %s).", what, arn, arn, d.n.Region)})
}

// logging records a container's log configuration: awslogs and FireLens's CloudWatch outputs
// need the logs service in their region; other drivers and outputs are notes.
func (d *deriver) logging(container string, lc *types.LogConfiguration) {
	for _, s := range lc.SecretOptions {
		d.valueFrom(container, aws.ToString(s.ValueFrom))
	}
	opt := lc.Options
	switch lc.LogDriver {
	case types.LogDriverAwslogs:
		d.usesExe = true
		region := opt["awslogs-region"]
		if region == "" {
			region = d.n.Region
		}
		d.need(region, "logs")
		group := opt["awslogs-group"]
		if region != d.n.Region {
			d.other(container, region, group, "Log group "+group)
		}
		if strings.EqualFold(opt["awslogs-create-group"], "true") {
			d.note(Note{Code: NoteCreateGroup, Container: container, Subject: group, Region: region,
				Text: fmt.Sprintf("awslogs-create-group is on: the execution role needs logs:CreateLogGroup, or the task fails when log group %s does not exist.", group)})
		}
	case types.LogDriverAwsfirelens:
		name := strings.ToLower(opt["Name"])
		if name == "" {
			name = strings.ToLower(opt["name"])
		}
		switch name {
		case "cloudwatch", "cloudwatch_logs":
			region := opt["region"]
			if region == "" {
				region = d.n.Region
			}
			d.need(region, "logs")
			if region != d.n.Region {
				d.other(container, region, opt["log_group_name"], "FireLens log group "+opt["log_group_name"])
			}
		default:
			d.note(Note{Code: NoteFirelensOutput, Container: container, Subject: opt["Name"],
				Text: fmt.Sprintf("FireLens sends this container's logs to the %q output, whose endpoint vpcprobe does not probe; check its path (an interface endpoint for AWS outputs such as firehose or kinesis, else the internet).", opt["Name"])})
		}
	case "":
	default:
		d.note(Note{Code: NoteLogDriver, Container: container, Subject: string(lc.LogDriver),
			Text: fmt.Sprintf("Log driver %s sends logs to a host vpcprobe does not probe; check that path separately.", lc.LogDriver)})
	}
}

// efs records an EFS volume: notes only, since no catalogue service tests a mount target.
func (d *deriver) efs(volume string, efs *types.EFSVolumeConfiguration) {
	fs := aws.ToString(efs.FileSystemId)
	d.note(Note{Code: NoteEFSMount, Subject: fs,
		Text: fmt.Sprintf("Volume %s mounts EFS file system %s: NFS to a mount target on TCP 2049 in the task's VPC (one per zone), which vpcprobe cannot probe by name. Check that the file system has a mount target in the task's zone and that its security group allows TCP 2049 from the task's security groups.", volume, fs)})
	if ac := efs.AuthorizationConfig; ac != nil && ac.Iam == types.EFSAuthorizationConfigIAMEnabled {
		d.note(Note{Code: NoteEFSIAM, Subject: fs,
			Text: fmt.Sprintf("Volume %s uses IAM authorization: the task role needs elasticfilesystem:ClientMount (and ClientWrite), and a subnet without internet access needs the interface endpoint com.amazonaws.%s.elasticfilesystem, which vpcprobe does not probe.", volume, d.n.Region)})
	}
}

// roles notes who makes which calls.
func (d *deriver) roles() {
	n := d.n
	switch {
	case n.ExecutionRoleARN != "":
		d.note(Note{Code: NoteExecutionRole, Subject: n.ExecutionRoleARN,
			Text: fmt.Sprintf("ECS pulls the image, reads the secrets and writes awslogs with the execution role %s; the probe's calls use its own role, so they prove the network path, not that role's permissions: to test those too, run the probe with that role as its task role.", n.ExecutionRoleARN)})
	case d.usesExe:
		d.note(Note{Code: NoteNoExecutionRole,
			Text: "The task definition has no executionRoleArn, but pulls from ECR, reads secrets or uses awslogs: ECS needs an execution role to do that."})
	}
	if n.TaskRoleARN != "" {
		d.note(Note{Code: NoteTaskRole, Subject: n.TaskRoleARN,
			Text: fmt.Sprintf("The application's own AWS calls use the task role %s; add the services it calls to --services.", n.TaskRoleARN)})
	}
}

// regionNeeds returns the entry of OtherRegions for region, creating it.
func (d *deriver) regionNeeds(region string) *RegionNeeds {
	for i := range d.n.OtherRegions {
		if d.n.OtherRegions[i].Region == region {
			return &d.n.OtherRegions[i]
		}
	}
	d.n.OtherRegions = append(d.n.OtherRegions, RegionNeeds{Region: region})
	return &d.n.OtherRegions[len(d.n.OtherRegions)-1]
}

// finish orders the services, chooses the image the probe pulls, and fills OtherRegions.
func (d *deriver) finish() {
	n := d.n
	n.Services = inCatalogueOrder(d.want[n.Region])
	for _, r := range d.regions {
		d.regionNeeds(r).Services = inCatalogueOrder(d.want[r])
	}
	// The application's own image first: its repository is the one whose pull matters most,
	// and a log router's is usually AWS's (aws-for-fluent-bit).
	images := append(d.ecr, d.routers...)
	if len(images) == 0 {
		return
	}
	n.Image = images[0].URI
	var rest []string
	for _, img := range images[1:] {
		if img.URI != n.Image && !slices.Contains(rest, img.URI) {
			rest = append(rest, img.URI)
		}
	}
	if len(rest) > 0 {
		d.note(Note{Code: NoteImagesNotPulled, Subject: strings.Join(rest, " "),
			Text: fmt.Sprintf("The probe pulls one image, %s; %s use the same ECR endpoints and layer bucket, so the network path is the same, but their repositories' permissions are not tested.", n.Image, strings.Join(rest, ", "))})
	}
}

// inCatalogueOrder returns keys without duplicates in catalogue order.
func inCatalogueOrder(keys []string) []string {
	out := []string{}
	for _, k := range catalogue.Keys() {
		if slices.Contains(keys, k) {
			out = append(out, k)
		}
	}
	return out
}

// Codes returns the codes of n's notes, in order: what tests and scripts match on.
func (n *Needs) Codes() []string {
	out := make([]string, len(n.Notes))
	for i, note := range n.Notes {
		out[i] = note.Code
	}
	return out
}

// OtherRegionFlags are the probe's --other-region values (REGION:KEY+KEY) of what n needs in
// regions other than its own.
func (n *Needs) OtherRegionFlags() []string {
	var out []string
	for _, r := range n.OtherRegions {
		if len(r.Services) > 0 {
			out = append(out, r.Region+":"+strings.Join(r.Services, "+"))
		}
	}
	return out
}
