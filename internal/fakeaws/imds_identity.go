package fakeaws

import (
	"encoding/json"
	"net/http"
	"slices"
)

// identityDocumentPath is where instance metadata serves the instance identity document (EC2
// user guide, "Instance identity documents").
const identityDocumentPath = "/latest/dynamic/instance-identity/document"

// identityDocument answers the instance identity document with the members the EC2 user guide's
// example shows (accountId, architecture, availabilityZone, billingProducts,
// devpayProductCodes, marketplaceProductCodes, imageId, instanceId, instanceType, kernelId,
// pendingTime, privateIp, ramdiskId, region, version), pretty-printed as the service does.
func (m *IMDS) identityDocument(w http.ResponseWriter) {
	i := m.Instance
	doc := map[string]any{
		"accountId": i.Account, "architecture": "x86_64", "availabilityZone": i.AvailabilityZone,
		"billingProducts": nil, "devpayProductCodes": nil, "marketplaceProductCodes": nil,
		"imageId": "ami-0abcdef1234567890", "instanceId": i.ID, "instanceType": "m5.large",
		"kernelId": nil, "pendingTime": "2026-12-01T10:00:00Z", "privateIp": i.PrivateIP,
		"ramdiskId": nil, "region": i.Region, "version": "2017-09-30",
	}
	b, _ := json.MarshalIndent(doc, "", "  ")
	w.Header().Set("Content-Type", "text/plain")
	w.Write(b)
}

// Gets returns the paths of the authorised GETs the fake answered, in order.
func (m *IMDS) Gets() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return slices.Clone(m.gets)
}
