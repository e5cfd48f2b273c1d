package stopped

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/vpcprobe/vpcprobe/catalogue"
	"github.com/vpcprobe/vpcprobe/checks"
)

// corpusEntry is one reason of testdata/corpus.json: a stopped or container reason copied
// verbatim from a public source (source), what AWS documentation says it means (doc), and the
// answer that documentation decides (want). Redactions of the source are filled plausibly and
// said in redacted. The expectations were written from the documents, not from the
// translator's output.
type corpusEntry struct {
	Name            string `json:"name"`
	Row             string `json:"row"`   // the row of the class table that must answer ("" none)
	Group           string `json:"group"` // the class of issue 18 it belongs to
	Source          string `json:"source"`
	Doc             string `json:"doc"`
	Redacted        string `json:"redacted"`
	Region          string `json:"region"` // the task's region ("" unknown: the reason must say it)
	StopCode        string `json:"stop_code"`
	StoppedReason   string `json:"stopped_reason"`
	ContainerReason string `json:"container_reason"`
	ExitCode        *int32 `json:"exit_code"`
	Want            struct {
		Service   string   `json:"service"`
		Cause     string   `json:"cause"`
		Error     string   `json:"error"`
		Verdict   string   `json:"verdict"`
		Route     string   `json:"route"`
		Source    string   `json:"source"`
		Names     []string `json:"names"` // the endpoint services, IAM actions, roles, commands the answer must name
		Never     []string `json:"never"` // what it must not say
		Explained *bool    `json:"explained"`
	} `json:"want"`
}

// loadCorpus reads testdata/corpus.json.
func loadCorpus(t *testing.T) []corpusEntry {
	t.Helper()
	b, err := os.ReadFile("testdata/corpus.json")
	if err != nil {
		t.Fatal(err)
	}
	var es []corpusEntry
	if err := json.Unmarshal(b, &es); err != nil {
		t.Fatal(err)
	}
	return es
}

// task builds the task ECS would describe for the entry: its region (when known) in the ARN,
// its stopped reason, and one container with the container reason and exit code.
func (e corpusEntry) task() Task {
	t := Task{LastStatus: "STOPPED", StopCode: e.StopCode, StoppedReason: e.StoppedReason}
	if e.Region != "" {
		t.ARN = "arn:" + catalogue.PartitionOf(e.Region).ID + ":ecs:" + e.Region + ":123456789012:task/prod/0123456789abcdef0123456789abcdef"
	}
	t.Containers = []Container{{Name: "app", Reason: e.ContainerReason, ExitCode: e.ExitCode}}
	return t
}

// serviceWords are the words by which a reason names each service: its host names and the
// names ECS and the agent give the step (ECS developer guide, the agent's error strings). A
// diagnosis may blame a service only if the reason names it.
var serviceWords = map[string]*regexp.Regexp{
	"ecr.api": rx(`api\.ecr|ecr registry auth|amazon ecr|getauthorizationtoken`),
	"ecr.dkr": rx(`\.dkr\.ecr|amazon ecr`),
	// containerd's blob copy (httpReadSeeker) fetches the layers, which ECR keeps in S3.
	"s3":             rx(`starport-layer-bucket|redacted ecr url|\.dkr\.ecr|env files|s3|httpreadseeker|httpreaderseeker|failed to copy`),
	"logs":           rx(`logger|logging driver|cloudwatch|awslogs|log opt`),
	"secretsmanager": rx(`asm|secrets manager|secretsmanager`),
	"ssm":            rx(`ssm|systems manager`),
	"efs":            rx(`efs|fs-[0-9a-f]|mount target`),
	"ecs":            rx(`ecs\.[a-z0-9-]+\.amazonaws`),
	"ecs-agent":      rx(`ecs-a[.-]`),
}

// TestTranslateRealReasons translates every reason of the corpus as the task ECS describes,
// and checks the answer AWS's documentation gives: the service, cause, error code, verdict,
// and the endpoint services, IAM actions and roles the fix must name.
func TestTranslateRealReasons(t *testing.T) {
	corpus := loadCorpus(t)
	if len(corpus) < 60 {
		t.Fatalf("%d reasons in the corpus, want at least 60", len(corpus))
	}
	for _, e := range corpus {
		t.Run(e.Name, func(t *testing.T) {
			if !strings.HasPrefix(e.Source, "http") && !strings.Contains(e.Source, "search index id") && !strings.Contains(e.Source, "issue 18") {
				t.Errorf("no source: %q", e.Source)
			}
			ex := explainTask("", e.task(), []string{"STOPPED"})
			if len(ex.Diagnoses) != 1 {
				t.Fatalf("%d diagnoses, want 1: %+v", len(ex.Diagnoses), ex.Diagnoses)
			}
			d := ex.Diagnoses[0]
			if d.Service != e.Want.Service || string(d.Error) != e.Want.Error || d.Cause != e.Want.Cause {
				t.Errorf("got service %q error %q cause %q, want %q %q %q\n%s\n%s", d.Service, d.Error, d.Cause, e.Want.Service, e.Want.Error, e.Want.Cause, d.Diagnosis, d.Remediation)
			}
			if string(d.Verdict) != e.Want.Verdict || string(ex.Verdict) != e.Want.Verdict {
				t.Errorf("verdict %s (task %s), want %s", d.Verdict, ex.Verdict, e.Want.Verdict)
			}
			if e.Want.Route != "" && d.Route != e.Want.Route {
				t.Errorf("route %q, want %q", d.Route, e.Want.Route)
			}
			if e.Want.Source != "" && d.Source != e.Want.Source {
				t.Errorf("source %q, want %q", d.Source, e.Want.Source)
			}
			explained := e.Want.Explained == nil || *e.Want.Explained
			if ex.Explained() != explained {
				t.Errorf("explained %v, want %v", ex.Explained(), explained)
			}
			if d.Diagnosis == "" || d.Remediation == "" || d.Raw == "" || d.Source == "" {
				t.Errorf("incomplete diagnosis: %+v", d)
			}
			answer := d.Diagnosis + " " + d.Remediation + " " + d.Command
			for _, n := range e.Want.Names {
				if !strings.Contains(answer, n) {
					t.Errorf("the answer does not name %q:\n%s", n, answer)
				}
			}
			for _, n := range append(e.Want.Never, "mysup3rs3cr3ttok3n", "X-Amz-Security-Token=m") {
				if strings.Contains(answer+d.Raw, n) {
					t.Errorf("the answer says %q:\n%s", n, answer)
				}
			}
			if own := strings.ReplaceAll(strings.ReplaceAll(answer, strings.TrimSuffix(d.Raw, "."), ""), "", ""); strings.ContainsAny(own, "{}") {
				t.Errorf("a placeholder left in the answer:\n%s", answer)
			}
			// No reason is answered with a service it does not name.
			reason := e.StoppedReason + " " + e.ContainerReason
			if d.Service != "" {
				if w, ok := serviceWords[d.Service]; !ok || !w.MatchString(reason) {
					t.Errorf("blames %s, which the reason does not name", d.Service)
				}
			}
			if _, ok := catalogue.Lookup(d.Service); ok && (d.EndpointType == "" || d.Host == "") {
				t.Errorf("service %s without host or endpoint type: %+v", d.Service, d)
			}
			if NotNetwork(d.Cause) && (d.Service != "" || d.EndpointService != "") {
				t.Errorf("a not-network answer names a service: %+v", d)
			}
			if d.Cause == CauseNotNetwork && d.Command == "" {
				t.Errorf("a not-network answer without the next command: %+v", d)
			}
		})
	}
}

// TestClassTableCovered: the class table is data with a stable shape, each row named once,
// every row answers at least one reason of the corpus (and that is the row the corpus
// expects), and every template names only facts the phrases know.
func TestClassTableCovered(t *testing.T) {
	seen := map[string]bool{}
	for _, r := range classes {
		if r.name == "" || r.words == nil || r.cause == "" || seen[r.name] {
			t.Errorf("row %q: incomplete or repeated", r.name)
		}
		if r.code == "" && r.means == "" || r.code != "" && (r.diagnosis == "" || r.fix == "") {
			t.Errorf("row %q: a network row needs means, another its diagnosis and fix", r.name)
		}
		if _, ok := catalogue.Lookup(r.service); r.service != "" && r.service[0] != '@' && r.service != "efs" && !ok {
			t.Errorf("row %q: service %q is not in the catalogue", r.name, r.service)
		}
		seen[r.name] = true
	}
	hit := map[string]bool{}
	for _, e := range loadCorpus(t) {
		for _, reason := range []string{e.StoppedReason, e.ContainerReason} {
			if reason == "" {
				continue
			}
			if r, ok := matchClass(readReason(reason, e.Region, "")); ok {
				hit[r.name] = true
			}
		}
		f := readReason(e.StoppedReason, e.Region, "")
		if e.ContainerReason != "" {
			f = readReason(e.ContainerReason, e.Region, "")
		}
		r, ok := matchClass(f)
		if e.Row == "" && ok {
			t.Errorf("%s: answered by row %s, want none", e.Name, r.name)
		} else if e.Row != "" && r.name != e.Row {
			t.Errorf("%s: answered by row %q, want %q", e.Name, r.name, e.Row)
		}
	}
	for _, r := range classes {
		if !hit[r.name] {
			t.Errorf("row %q answers none of the corpus: add the real reason it is for", r.name)
		}
	}
	// Every condition names a fact: evaluating one never panics.
	for _, r := range classes {
		for _, c := range r.when {
			func() {
				defer func() {
					if v := recover(); v != nil {
						t.Errorf("row %s, condition %q: %v", r.name, c, v)
					}
				}()
				readReason("x", "", "").holds(c)
			}()
		}
	}
	for _, p := range paths {
		for _, c := range p.when {
			func() {
				defer func() {
					if v := recover(); v != nil {
						t.Errorf("path %s, condition %q: %v", p.name, c, v)
					}
				}()
				readReason("x", "", "").holds(c)
			}()
		}
	}
	// Every placeholder of every template is a fact: expanding one never panics.
	f := readReason("x", "eu-west-1", "123456789012")
	f.d = &Diagnosis{Service: "ecr.api", Cause: CauseSecrets}
	templates := []string{}
	for _, r := range classes {
		templates = append(templates, r.diagnosis, r.fix, r.command, r.means, r.host)
	}
	for _, p := range paths {
		templates = append(templates, p.diagnosis, p.fix)
	}
	for _, p := range append(slices.Clone(policyKinds), policyDefault) {
		templates = append(templates, p.denied, p.fix)
	}
	for _, tpl := range templates {
		func() {
			defer func() {
				if v := recover(); v != nil {
					t.Errorf("template %q: %v", tpl, v)
				}
			}()
			if out := f.expand(tpl); strings.Contains(out, "{") && !strings.Contains(out, `{"username"`) {
				t.Errorf("template %q left a placeholder: %q", tpl, out)
			}
		}()
	}
	_ = checks.Fail
}

// TestREADMEListsEveryRow: stopped/README.md's ERRORS section has one line per row, in the
// table's order.
func TestREADMEListsEveryRow(t *testing.T) {
	b, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, errs, _ := strings.Cut(string(b), "## Errors")
	_, block, _ := strings.Cut(errs, "```\n")
	block, _, _ = strings.Cut(block, "```")
	var listed []string
	for _, line := range strings.Split(block, "\n") {
		if f := strings.Fields(line); len(f) > 2 && !strings.HasPrefix(line, " ") && regexp.MustCompile(`^[a-z][a-z-]+$`).MatchString(f[0]) {
			listed = append(listed, f[0])
		}
	}
	var rows []string
	for _, r := range classes {
		rows = append(rows, r.name)
	}
	if strings.Join(listed, " ") != strings.Join(rows, " ") {
		t.Errorf("README lists\n%v\nthe table has\n%v", listed, rows)
	}
}
