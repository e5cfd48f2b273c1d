package report

import (
	"bytes"
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/vpcprobe/vpcprobe/checks"
)

// notFound is one service whose authenticated check found no such resource, worded as the
// probe words it (probe/verdict.go explainCall) around the check's detail (checks/auth.go
// fetched: "<item>: <why>").
func notFound(key, host, detail string) ServiceReport {
	return ServiceReport{Service: key, Host: host, Verdict: checks.Fail, Error: checks.NotFound, Route: RoutePrivate,
		Checks:      []CheckReport{{Name: "auth", Status: checks.Fail, Error: checks.NotFound, Detail: detail}},
		Diagnosis:   "The network path to " + key + " works, but the resource does not exist: " + detail + ".",
		Remediation: "Check the name, the account and the region of what was asked for."}
}

// TestTextKeepsEachResource (issue 16, item 2): a missing secret and a missing parameter share
// a cause and a fix, and still each name their ARN on a line of their own; the service key is
// not pasted into an API action (ssm:GetSecretValue does not exist: Secrets Manager's action is
// secretsmanager:GetSecretValue, Parameter Store's ssm:GetParameters).
func TestTextKeepsEachResource(t *testing.T) {
	const (
		secret = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:prod/db-AbCdEf"
		param  = "arn:aws:ssm:eu-west-1:123456789012:parameter/prod/api-key"
	)
	r := &Report{Context: Context{Region: "eu-west-1"}, Services: []ServiceReport{
		notFound("secretsmanager", "secretsmanager.eu-west-1.amazonaws.com", secret+": secretsmanager:GetSecretValue: ResourceNotFoundException"),
		notFound("ssm", "ssm.eu-west-1.amazonaws.com", param+": ssm:GetParameters: no such parameter (or a malformed name)"),
	}}
	r.Finish()
	text := string(r.Text(false))
	for _, arn := range []string{secret, param} {
		lines := 0
		for _, l := range strings.Split(text, "\n") {
			if strings.Contains(l, arn) {
				lines++
			}
		}
		if lines != 1 {
			t.Errorf("%s on %d lines, want 1:\n%s", arn, lines, text)
		}
	}
	for _, invented := range []string{"ssm:GetSecretValue", "secretsmanager and ssm:", "secretsmanager:GetParameters"} {
		if strings.Contains(text, invented) {
			t.Errorf("%q in the text:\n%s", invented, text)
		}
	}
	if n := strings.Count(text, "fix:"); n != 1 {
		t.Errorf("%d fix lines for one cause, want 1:\n%s", n, text)
	}
}

// TestWriterWraps: prose wraps at the width under its label, a word longer than the width is not
// cut, a sentence already said is not said again, and a command stays one line.
func TestWriterWraps(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b, 40)
	w.Prose("  ", "why: ", "One two three four five six seven eight nine ten eleven. Twelve.")
	w.Prose("  ", "why: ", "Twelve. Thirteen.")
	w.Prose("  ", "why: ", "Twelve.")
	w.Prose("  ", "in: ", "arn:aws:secretsmanager:eu-west-1:123456789012:secret:x")
	w.Command("  ", "$ ", "aws ec2 create-vpc-endpoint --region eu-west-1 --vpc-id vpc-1 --service-name x")
	w.Command("  ", "$ ", "aws ec2 create-vpc-endpoint --region eu-west-1 --vpc-id vpc-1 --service-name x")
	want := "" +
		"  why: One two three four five six seven\n" +
		"       eight nine ten eleven. Twelve.\n" +
		"  why: Thirteen.\n" +
		"  in: arn:aws:secretsmanager:eu-west-1:123456789012:secret:x\n" +
		"  $ aws ec2 create-vpc-endpoint --region eu-west-1 --vpc-id vpc-1 --service-name x\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
	for _, l := range strings.Split(b.String(), "\n")[:3] {
		if utf8.RuneCountInString(l) > 40 {
			t.Errorf("%q over 40", l)
		}
	}
}

// TestSentences: dots inside names and addresses do not end a sentence.
func TestSentences(t *testing.T) {
	got := Sentences("api.ecr.eu-west-1.amazonaws.com resolves to 10.0.1.5. The fix is e.g. simple. (Or not.)")
	want := []string{"api.ecr.eu-west-1.amazonaws.com resolves to 10.0.1.5.", "The fix is e.g. simple.", "(Or not.)"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("got %q, want %q", got, want)
	}
}

// TestProseQuotedCommand: a command quoted in prose leaves the paragraph for a line of its own,
// whole, after it; said once.
func TestProseQuotedCommand(t *testing.T) {
	var b bytes.Buffer
	w := NewWriter(&b, 40)
	const cmd = "aws ec2 describe-managed-prefix-lists --region eu-west-1 --filters Name=prefix-list-name,Values=com.amazonaws.eu-west-1.s3"
	w.Prose("  ", "fix: ", "Allow the prefix list (its id: `"+cmd+"`).")
	w.Prose("  ", "fix: ", "Again (its id: `"+cmd+"`).")
	want := "" +
		"  fix: Allow the prefix list (its id:\n" +
		"       the command below).\n" +
		"       $ " + cmd + "\n" +
		"  fix: Again (its id: the command\n" +
		"       below).\n"
	if b.String() != want {
		t.Errorf("got\n%s\nwant\n%s", b.String(), want)
	}
}

// TestMerge: findings of one code merge into one naming every service and keeping every
// resource and command; diagnoses that differ by single words list them once, those that differ
// more read as the code's description; a remediation that differs with no command to show
// keeps the findings apart.
func TestMerge(t *testing.T) {
	what := func(code string) string { return "what " + code + " means" }
	f := func(key, diag, rem, cmd string, res ...string) Finding {
		return Finding{Service: key, Severity: SeverityFail, Code: "c", Resources: res, Diagnosis: diag, Remediation: rem, Command: cmd}
	}
	got := Merge([]Finding{
		f("ecr.api", "endpoint vpce-1 is down, so ecr.api fails", "", "fix vpce-1", "vpce-1"),
		f("logs", "endpoint vpce-2 is down, so logs fails", "", "fix vpce-2", "vpce-2"),
	}, what)
	if len(got) != 1 || got[0].Diagnosis != "endpoint vpce-1 and vpce-2 is down, so ecr.api and logs fails" ||
		!slices.Equal(got[0].Resources, []string{"vpce-1", "vpce-2"}) || len(got[0].Commands) != 2 || !slices.Equal(got[0].Keys(), []string{"ecr.api", "logs"}) {
		t.Errorf("aligned merge: %+v", got)
	}
	got = Merge([]Finding{
		f("ecr.api", "it breaks image pulls", "", "fix 1"),
		f("logs", "it breaks the awslogs log driver and this report", "", "fix 2"),
	}, what)
	if len(got) != 1 || got[0].Diagnosis != "what c means" {
		t.Errorf("differing diagnoses: %+v", got)
	}
	got = Merge([]Finding{
		f("ecr.api", "same", "do one thing", ""),
		f("logs", "same", "do something else entirely now", ""),
	}, what)
	if len(got) != 2 {
		t.Errorf("differing remediations without commands merged: %+v", got)
	}
}
