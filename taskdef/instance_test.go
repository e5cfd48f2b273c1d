package taskdef

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// The container-instance files of instance/: a systemd unit and the user data that installs it.
const (
	unitFile     = "instance/vpcprobe-preflight.service"
	userDataFile = "instance/user-data.sh"
)

// unitKeys parses a systemd unit into section → key → values (repeated keys accumulate).
func unitKeys(t *testing.T, data []byte) map[string]map[string][]string {
	t.Helper()
	out := map[string]map[string][]string{}
	section := ""
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			out[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("line %d: %q is neither a section nor key=value", n, line)
			}
			out[section][k] = append(out[section][k], v)
		}
	}
	return out
}

// TestPreflightUnit: the unit runs once before the agent, never blocks it, sends its report to
// the serial console, and passes the binary only flags it has; systemd itself accepts it.
func TestPreflightUnit(t *testing.T) {
	data, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	u := unitKeys(t, data)
	want := []struct{ section, key, value string }{
		{"Unit", "Before", "ecs.service"},
		{"Service", "Type", "oneshot"},
		{"Service", "StandardOutput", "journal+console"},
		{"Install", "WantedBy", "ecs.service"},
	}
	for _, w := range want {
		if got := u[w.section][w.key]; len(got) != 1 || got[0] != w.value {
			t.Errorf("[%s] %s = %v, want %s", w.section, w.key, got, w.value)
		}
	}
	if r := u["Unit"]["Requires"]; len(r) > 0 || len(u["Unit"]["RequiredBy"]) > 0 || len(u["Install"]["RequiredBy"]) > 0 {
		t.Errorf("the agent must start whatever the verdict: no Requires/RequiredBy (%v)", r)
	}
	exec0 := u["Service"]["ExecStart"]
	if len(exec0) != 1 {
		t.Fatalf("ExecStart %v", exec0)
	}
	args := strings.Fields(exec0[0])
	if args[0] != "/usr/local/bin/vpcprobe" {
		t.Errorf("ExecStart runs %s, not the path user-data.sh installs", args[0])
	}
	checkFlags(t, args[1:])

	// systemd's own verdict, with ExecStart pointed at an executable that exists here.
	if _, err := exec.LookPath("systemd-analyze"); err != nil {
		t.Fatal("systemd-analyze is missing: apt-get install systemd")
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	unit := filepath.Join(dir, "vpcprobe-preflight.service")
	body := strings.ReplaceAll(string(data), "/usr/local/bin/vpcprobe", self)
	if err := os.WriteFile(unit, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("systemd-analyze", "verify", "--man=no", unit)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.Contains(string(out), "vpcprobe-preflight.service:") {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
}

// checkFlags fails on a flag the binary does not have, or a service key it does not know.
func checkFlags(t *testing.T, args []string) {
	t.Helper()
	for i := 0; i < len(args); i++ {
		name, ok := strings.CutPrefix(args[i], "--")
		if !ok {
			t.Errorf("%q is not a flag", args[i])
			continue
		}
		name, _, _ = strings.Cut(name, "=")
		if !flagName[name] {
			t.Errorf("--%s is not a flag of vpcprobe", name)
		}
		if name == "services" && i+1 < len(args) {
			for _, k := range strings.Split(args[i+1], ",") {
				if !services[k] && k != "all" && k != "ec2-instance" {
					t.Errorf("--services %s: unknown key %s", args[i+1], k)
				}
			}
		}
		if i+1 < len(args) && !strings.HasPrefix(args[i+1], "--") {
			i++
		}
	}
}

// TestUserData: the user data is valid bash, installs exactly the unit of this directory,
// downloads the binary only from S3 (nothing from the internet), and runs the unit.
func TestUserData(t *testing.T) {
	if out, err := exec.Command("bash", "-n", userDataFile).CombinedOutput(); err != nil {
		t.Fatalf("bash -n %s: %v\n%s", userDataFile, err, out)
	}
	data, err := os.ReadFile(userDataFile)
	if err != nil {
		t.Fatal(err)
	}
	unit, err := os.ReadFile(unitFile)
	if err != nil {
		t.Fatal(err)
	}
	s := string(data)
	_, rest, ok := strings.Cut(s, "<<'UNIT'\n")
	embedded, _, ok2 := strings.Cut(rest, "UNIT\n")
	if !ok || !ok2 || embedded != string(unit) {
		t.Errorf("the unit in %s differs from %s", userDataFile, unitFile)
	}
	for _, banned := range []string{"http://", "https://"} {
		for _, line := range strings.Split(s, "\n") {
			if strings.Contains(line, banned) && !strings.Contains(line, "169.254.169.254") && !strings.HasPrefix(strings.TrimSpace(line), "#") && !strings.HasPrefix(line, "Documentation=") {
				t.Errorf("%s downloads from the network other than S3 and instance metadata: %s", userDataFile, line)
			}
		}
	}
	for _, want := range []string{"aws s3 cp", "ECS_CLUSTER=", "systemctl start vpcprobe-preflight.service", "systemctl enable vpcprobe-preflight.service"} {
		if !strings.Contains(s, want) {
			t.Errorf("%s does not %q", userDataFile, want)
		}
	}
	readme, err := os.ReadFile("instance/README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"user-data.sh", "vpcprobe-preflight.service", "aws ec2 get-console-output", "aws ssm send-command", "--runner lambda"} {
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("instance/README.md does not show %s", want)
		}
	}
}
