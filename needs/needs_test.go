package needs

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ecs"
	"github.com/aws/aws-sdk-go-v2/service/ecs/types"

	"github.com/vpcprobe/vpcprobe/couldnottest"
)

// TestDerive reads real task-definition JSON shapes (describe-task-definition output and
// register-task-definition input) and checks what each needs: services in its region, the image
// the probe pulls, secrets and parameters as passed to the probe, other regions and note codes.
func TestDerive(t *testing.T) {
	tests := []struct {
		file       string
		opts       Options
		region     string
		services   []string
		image      string
		secrets    []string
		parameters []string
		other      map[string][]string // region → services
		registries []string            // of every image, in container order
		codes      []string
	}{
		{
			file: "awslogs-other-region.json", opts: Options{Region: "eu-central-1"}, region: "eu-west-1",
			services:   []string{"ecr.api", "ecr.dkr", "s3"},
			image:      "123456789012.dkr.ecr.eu-west-1.amazonaws.com/web@sha256:0b9f1e7c6c0e4e2a8f6b3c1d2e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2f",
			other:      map[string][]string{"us-east-1": {"logs"}},
			registries: []string{"123456789012.dkr.ecr.eu-west-1.amazonaws.com"},
			codes:      []string{NoteOtherRegion, NoteCreateGroup, NoteExecutionRole},
		},
		{
			file: "secrets.json", opts: Options{Region: "eu-west-1"}, region: "eu-west-1",
			services: []string{"logs", "secretsmanager", "ssm"},
			secrets: []string{
				"arn:aws:secretsmanager:eu-west-1:123456789012:secret:ghcr-pull-Xy12Ab",
				"arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf:password::",
				"arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf:username:AWSCURRENT:",
			},
			parameters: []string{"/prod/api/key", "feature-flags", "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/signing-key"},
			other:      map[string][]string{"us-east-1": {"secretsmanager"}, "us-west-2": {"ssm"}},
			registries: []string{"ghcr.io"},
			codes:      []string{NoteInternetRegistry, NoteOtherRegion, NoteOtherRegion, NoteExecutionRole, NoteTaskRole},
		},
		{
			file: "non-ecr.json", opts: Options{Region: "eu-west-1"}, region: "eu-west-1",
			services:   []string{},
			registries: []string{"docker.io", "docker.io", "ghcr.io", "public.ecr.aws", "quay.io", "localhost:5000"},
			codes:      slices.Repeat([]string{NoteInternetRegistry}, 6),
		},
		{
			file: "exec-efs.json", opts: Options{Region: "eu-west-1"}, region: "eu-west-1",
			services:   []string{"ecr.api", "ecr.dkr", "s3", "logs"},
			image:      "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cms:5.2",
			registries: []string{"123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"},
			codes:      []string{NoteEFSMount, NoteEFSIAM, NoteEFSMount, NoteExecHint, NoteExecutionRole, NoteTaskRole, NoteImagesNotPulled},
		},
		{
			file: "exec-efs.json", opts: Options{Region: "eu-west-1", ExecuteCommand: true}, region: "eu-west-1",
			services:   []string{"ecr.api", "ecr.dkr", "s3", "logs", "ssmmessages"},
			image:      "123456789012.dkr.ecr.eu-west-1.amazonaws.com/cms:5.2",
			registries: []string{"123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"},
			codes:      []string{NoteEFSMount, NoteEFSIAM, NoteEFSMount, NoteExecutionRole, NoteTaskRole, NoteImagesNotPulled},
		},
		{
			file: "firelens.json", opts: Options{Region: "eu-west-1"}, region: "eu-west-1",
			services:   []string{"ecr.api", "ecr.dkr", "s3", "logs", "secretsmanager"},
			image:      "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shop:1.9",
			secrets:    []string{"arn:aws:secretsmanager:eu-west-1:123456789012:secret:datadog-api-key-Zx98Cv"},
			registries: []string{"906394416424.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com", "123456789012.dkr.ecr.eu-west-1.amazonaws.com"},
			codes:      []string{NoteCreateGroup, NoteS3Object, NoteFirelensOutput, NoteExecutionRole, NoteImagesNotPulled},
		},
		{
			file: "china.json", opts: Options{Region: "eu-west-1"}, region: "cn-north-1",
			services:   []string{"ecr.api", "ecr.dkr", "s3", "logs", "secretsmanager"},
			image:      "123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn/orders:3.0.1",
			secrets:    []string{"arn:aws-cn:secretsmanager:cn-north-1:123456789012:secret:orders/db-Lk45Mn"},
			other:      map[string][]string{"cn-northwest-1": {"ecr.api", "ecr.dkr", "s3"}},
			registries: []string{"123456789012.dkr.ecr.cn-north-1.amazonaws.com.cn", "123456789012.dkr.ecr.cn-northwest-1.amazonaws.com.cn"},
			codes:      []string{NoteOtherRegion, NoteExecutionRole},
		},
		{
			file: "splunk-fips.json", opts: Options{Region: "us-gov-west-1"}, region: "us-gov-west-1",
			services:   []string{"ecr.api", "ecr.dkr", "s3", "ssm"},
			parameters: []string{"/ledger/splunk-token"},
			registries: []string{"123456789012.dkr.ecr-fips.us-gov-west-1.amazonaws.com"},
			codes:      []string{NoteECRFIPS, NoteLogDriver, NoteNoExecutionRole},
		},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			n, err := Load(context.Background(), nil, FilePrefix+filepath.Join("testdata", tt.file), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			if n.Region != tt.region {
				t.Errorf("region %q, want %q", n.Region, tt.region)
			}
			if !slices.Equal(n.Services, tt.services) {
				t.Errorf("services %q, want %q", n.Services, tt.services)
			}
			if n.Image != tt.image {
				t.Errorf("image %q, want %q", n.Image, tt.image)
			}
			if !slices.Equal(n.Secrets, tt.secrets) {
				t.Errorf("secrets %q, want %q", n.Secrets, tt.secrets)
			}
			if !slices.Equal(n.Parameters, tt.parameters) {
				t.Errorf("parameters %q, want %q", n.Parameters, tt.parameters)
			}
			other := map[string][]string{}
			for _, r := range n.OtherRegions {
				other[r.Region] = r.Services
			}
			if len(other) != len(tt.other) {
				t.Errorf("other regions %v, want %v", other, tt.other)
			}
			for r, want := range tt.other {
				if !slices.Equal(other[r], want) {
					t.Errorf("%s: services %q, want %q", r, other[r], want)
				}
			}
			var registries []string
			for _, img := range n.Images {
				registries = append(registries, img.Registry)
			}
			if !slices.Equal(registries, tt.registries) {
				t.Errorf("registries %q, want %q", registries, tt.registries)
			}
			if !slices.Equal(n.Codes(), tt.codes) {
				t.Errorf("note codes %q, want %q", n.Codes(), tt.codes)
			}
			for _, note := range n.Notes {
				if note.Text == "" {
					t.Errorf("note %s has no text", note.Code)
				}
			}
		})
	}
}

// TestDeriveSecretRegions: where a secret is read decides which region's endpoint it needs, and
// only the task's own region's secrets are passed to the probe.
func TestDeriveSecretRegions(t *testing.T) {
	n, err := Load(context.Background(), nil, FilePrefix+"testdata/secrets.json", Options{Region: "eu-west-1"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]RegionNeeds{
		"us-east-1": {Secrets: []string{"arn:aws:secretsmanager:us-east-1:210987654321:secret:partner-token-Qw34Er"}},
		"us-west-2": {Parameters: []string{"arn:aws:ssm:us-west-2:123456789012:parameter/shared/config"}},
	}
	for _, r := range n.OtherRegions {
		w := want[r.Region]
		if !slices.Equal(r.Secrets, w.Secrets) || !slices.Equal(r.Parameters, w.Parameters) {
			t.Errorf("%s: secrets %q parameters %q, want %q %q", r.Region, r.Secrets, r.Parameters, w.Secrets, w.Parameters)
		}
	}
	for _, note := range n.Notes {
		if note.Code == NoteOtherRegion && note.Region == "" {
			t.Errorf("an other-region note without its region: %+v", note)
		}
	}
}

// TestDeriveImages covers image references the fixtures do not: a registry with the wrong
// partition's domain, and images of the task's region that the probe cannot pull.
func TestDeriveImages(t *testing.T) {
	tests := []struct {
		name, image string
		kind        string
		services    []string
		pulled      bool
		codes       []string
	}{
		{"ecr tag", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/app:1", KindECR, []string{"ecr.api", "ecr.dkr", "s3"}, true, nil},
		{"ecr no tag", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/team/app", KindECR, []string{"ecr.api", "ecr.dkr", "s3"}, true, nil},
		{"china domain outside china", "123456789012.dkr.ecr.eu-west-1.amazonaws.com.cn/app:1", KindECR, []string{}, false, []string{NoteImageInvalid}},
		{"china region with the global domain", "123456789012.dkr.ecr.cn-north-1.amazonaws.com/app:1", KindECR, []string{}, false, []string{NoteImageInvalid}},
		{"ecr bad tag", "123456789012.dkr.ecr.eu-west-1.amazonaws.com/App:1", KindECR, []string{"ecr.api", "ecr.dkr", "s3"}, false, []string{NoteImageInvalid}},
		{"docker hub user image", "bitnami/redis:7.2", KindInternet, []string{}, false, []string{NoteInternetRegistry}},
		{"google", "europe-docker.pkg.dev/p/r/app:1", KindInternet, []string{}, false, []string{NoteInternetRegistry}},
		{"private registry", "registry.example.com:5000/app:1", KindInternet, []string{}, false, []string{NoteInternetRegistry}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			td := &types.TaskDefinition{Family: aws.String("x"), ExecutionRoleArn: aws.String("arn:aws:iam::123456789012:role/x"), ContainerDefinitions: []types.ContainerDefinition{{Name: aws.String("app"), Image: aws.String(tt.image)}}}
			n := Derive(td, Options{Region: "eu-west-1"})
			if n.Images[0].Kind != tt.kind || !slices.Equal(n.Services, tt.services) || (n.Image != "") != tt.pulled {
				t.Errorf("kind %s services %q image %q", n.Images[0].Kind, n.Services, n.Image)
			}
			if codes, want := n.Codes(), append(tt.codes, NoteExecutionRole); !slices.Equal(codes, want) {
				t.Errorf("codes %q, want %q", codes, want)
			}
		})
	}
}

// fakeDescriber answers DescribeTaskDefinition with a task definition or an error.
type fakeDescriber struct {
	td  *types.TaskDefinition
	err error
	ref string
}

func (f *fakeDescriber) DescribeTaskDefinition(_ context.Context, in *ecs.DescribeTaskDefinitionInput, _ ...func(*ecs.Options)) (*ecs.DescribeTaskDefinitionOutput, error) {
	f.ref = aws.ToString(in.TaskDefinition)
	return &ecs.DescribeTaskDefinitionOutput{TaskDefinition: f.td}, f.err
}

// TestLoad: a failed ECS call is ErrUnreadable (could not test); a bad file is not.
func TestLoad(t *testing.T) {
	ctx := context.Background()
	denied := &fakeDescriber{err: errors.New("AccessDeniedException: not authorized to perform: ecs:DescribeTaskDefinition")}
	if _, err := Load(ctx, denied, "web:7", Options{Region: "eu-west-1"}); !errors.Is(err, ErrUnreadable) || denied.ref != "web:7" {
		t.Errorf("denied: %v (asked for %q)", err, denied.ref)
	}
	td, err := Parse(must(os.ReadFile("testdata/exec-efs.json")))
	if err != nil {
		t.Fatal(err)
	}
	td.TaskDefinitionArn = aws.String("arn:aws:ecs:eu-west-1:123456789012:task-definition/cms:4")
	n, err := Load(ctx, &fakeDescriber{td: td}, "cms", Options{Region: "eu-west-1"})
	if err != nil || n.TaskDefinition != "arn:aws:ecs:eu-west-1:123456789012:task-definition/cms:4" || len(n.Services) != 4 {
		t.Errorf("from the API: %v %+v", err, n)
	}
	bad := filepath.Join(t.TempDir(), "bad.json")
	os.WriteFile(bad, []byte(`{"family": "x"}`), 0o600)
	for _, ref := range []string{FilePrefix + "testdata/missing.json", FilePrefix + bad, ""} {
		if _, err := Load(ctx, denied, ref, Options{Region: "eu-west-1"}); err == nil || errors.Is(err, ErrUnreadable) {
			t.Errorf("%q: %v, want a usage error", ref, err)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

// TestUnreadableIsUntested: a task definition the ECS API would not give is "could not test",
// the sentinel every runner shares.
func TestUnreadableIsUntested(t *testing.T) {
	err := fmt.Errorf("%w: ecs:DescribeTaskDefinition: denied", ErrUnreadable)
	if !errors.Is(err, ErrUnreadable) || !errors.Is(err, couldnottest.Err) {
		t.Errorf("%v does not match ErrUnreadable and couldnottest.Err", err)
	}
}
