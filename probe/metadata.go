package probe

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/vpcprobe/vpcprobe/catalogue"
)

// Metadata is what ECS task metadata v4 tells about the task the probe runs in. Every field may
// be empty: fields appear in later platform versions, and EC2 tasks lack some.
type Metadata struct {
	Cluster          string   // short name, or the full ARN on Fargate
	TaskARN          string   // arn:aws:ecs:<region>:<account>:task/…
	Family           string   // task definition family
	Revision         string   // task definition revision
	AvailabilityZone string   // eu-west-1a
	LaunchType       string   // FARGATE or EC2
	PrivateIP        string   // this container's first IPv4 address
	SubnetCIDR       string   // the task subnet's IPv4 CIDR block
	PrivateIPv6      string   // this container's first IPv6 address (a dual-stack or IPv6-only task)
	IPv6SubnetCIDR   string   // the task subnet's IPv6 CIDR block
	DNSServers       []string // the resolvers ECS configured for the task
}

// maxMetadataBytes bounds a metadata document; real ones are a few KiB.
const maxMetadataBytes = 1 << 20

type metaNetwork struct {
	IPv4Addresses       []string `json:"IPv4Addresses"`
	IPv4SubnetCIDRBlock string   `json:"IPv4SubnetCIDRBlock"`
	// The IPv6 side, as the ECS agent writes it (amazon-ecs-agent, ecs-agent/tmds/handlers/v4/
	// state: IPv6Addresses, IPv6SubnetCIDRBlock).
	IPv6Addresses       []string `json:"IPv6Addresses"`
	IPv6SubnetCIDRBlock string   `json:"IPv6SubnetCIDRBlock"`
	DomainNameServers   []string `json:"DomainNameServers"`
}

type metaContainer struct {
	Networks []metaNetwork `json:"Networks"`
}

type metaTask struct {
	Cluster          string          `json:"Cluster"`
	TaskARN          string          `json:"TaskARN"`
	Family           string          `json:"Family"`
	Revision         string          `json:"Revision"`
	AvailabilityZone string          `json:"AvailabilityZone"`
	LaunchType       string          `json:"LaunchType"`
	Containers       []metaContainer `json:"Containers"`
}

// ParseMetadata decodes the task document (${URI}/task) and, when present, this container's
// document (${URI}); the container's networks win over the task's first container's.
func ParseMetadata(task, container []byte) (Metadata, error) {
	var t metaTask
	if err := json.Unmarshal(task, &t); err != nil {
		return Metadata{}, fmt.Errorf("task metadata: %w", err)
	}
	m := Metadata{
		Cluster: t.Cluster, TaskARN: t.TaskARN, Family: t.Family, Revision: t.Revision,
		AvailabilityZone: t.AvailabilityZone, LaunchType: t.LaunchType,
	}
	var nets []metaNetwork
	if len(container) > 0 {
		var c metaContainer
		if err := json.Unmarshal(container, &c); err != nil {
			return m, fmt.Errorf("container metadata: %w", err)
		}
		nets = c.Networks
	}
	for _, c := range t.Containers {
		if len(nets) > 0 {
			break
		}
		nets = c.Networks
	}
	if len(nets) > 0 {
		n := nets[0]
		if len(n.IPv4Addresses) > 0 {
			m.PrivateIP = n.IPv4Addresses[0]
		}
		m.SubnetCIDR = n.IPv4SubnetCIDRBlock
		if len(n.IPv6Addresses) > 0 {
			m.PrivateIPv6 = n.IPv6Addresses[0]
		}
		m.IPv6SubnetCIDR = n.IPv6SubnetCIDRBlock
		m.DNSServers = n.DomainNameServers
	}
	return m, nil
}

// Region returns the region in the task ARN, else the availability zone less its letter.
func (m Metadata) Region() string {
	if parts := strings.Split(m.TaskARN, ":"); len(parts) >= 6 && parts[0] == "arn" && parts[3] != "" {
		return parts[3]
	}
	if az := m.AvailabilityZone; len(az) > 1 {
		return strings.TrimRight(az, "abcdefghijklmnopqrstuvwxyz")
	}
	return ""
}

// Account returns the account id in the task ARN.
func (m Metadata) Account() string {
	if parts := strings.Split(m.TaskARN, ":"); len(parts) >= 6 && parts[0] == "arn" && catalogue.ValidAccount(parts[4]) {
		return parts[4]
	}
	return ""
}

// FetchMetadata reads the task and container documents from base (ECS_CONTAINER_METADATA_URI_V4)
// concurrently. A missing container document is tolerated; a missing task document is an error.
func FetchMetadata(ctx context.Context, c *http.Client, base string) (Metadata, error) {
	base = strings.TrimRight(base, "/")
	var task, container []byte
	var taskErr error
	var wg sync.WaitGroup
	wg.Add(2)
	go func() { defer wg.Done(); task, taskErr = getDoc(ctx, c, base+"/task") }()
	go func() { defer wg.Done(); container, _ = getDoc(ctx, c, base) }()
	wg.Wait()
	if taskErr != nil {
		return Metadata{}, taskErr
	}
	return ParseMetadata(task, container)
}

func getDoc(ctx context.Context, c *http.Client, url string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, fmt.Errorf("task metadata: %w", err)
	}
	resp, err := c.Do(req)
	if err != nil {
		return nil, fmt.Errorf("task metadata: %w", err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("task metadata: %s answered HTTP %d", url, resp.StatusCode)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxMetadataBytes))
	if err != nil {
		return nil, fmt.Errorf("task metadata: %w", err)
	}
	return body, nil
}

// DefaultStream returns the log stream a run writes to when --log-stream is not given: the task
// id (or the host name) and the start time, in characters CloudWatch accepts.
func DefaultStream(m Metadata, started time.Time) string {
	id := ""
	if i := strings.LastIndex(m.TaskARN, "/"); i >= 0 {
		id = m.TaskARN[i+1:]
	}
	if id == "" {
		id, _ = os.Hostname()
	}
	if id == "" {
		id = "vpcprobe"
	}
	return id + "/" + started.UTC().Format("2006-01-02T15-04-05Z")
}
