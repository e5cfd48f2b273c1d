package fakeaws

import "sync"

// failedState is what a Server's new functions turn into instead of Active: Lambda's Failed
// state with a StateReasonCode (Lambda API reference, FunctionConfiguration.StateReasonCode).
type failedState struct{ code, reason string }

var lambdaFailed sync.Map // *Server → failedState

// SetFunctionFailed makes every function, once its Pending reads are over, Failed with code
// (InvalidSubnet, SubnetOutOfIPAddresses, …) and reason instead of Active; "" restores Active.
func (s *Server) SetFunctionFailed(code, reason string) {
	if code == "" {
		lambdaFailed.Delete(s)
		return
	}
	lambdaFailed.Store(s, failedState{code, reason})
}

// failedAs applies SetFunctionFailed to a configuration that would be Active.
func (s *Server) failedAs(out *functionConfiguration) {
	v, ok := lambdaFailed.Load(s)
	if !ok || out.State != "Active" {
		return
	}
	f := v.(failedState)
	out.State, out.StateReasonCode, out.StateReason = "Failed", f.code, f.reason
	out.LastUpdateStatus = "Failed"
}
