package fakeaws

import (
	"bytes"
	"crypto/hmac"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// layerURLExpiry is how long a presigned layer URL stays valid.
const layerURLExpiry = time.Hour

// layerModTime is the Last-Modified of every layer object; a fixed time keeps answers stable.
var layerModTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// layerBucket is the bucket ECR keeps a region's layers in.
func layerBucket(region string) string {
	return "prod-" + region + "-starport-layer-bucket"
}

// presignLayer returns a presigned GET URL for a repository's blob on the layer bucket, shaped
// like ECR's redirects. The signature is an HMAC under the fake's own key, so the bucket can
// refuse a URL that was altered.
func (s *Server) presignLayer(repo, digest string) string {
	cfg := s.config()
	now := s.now()
	bucket := layerBucket(cfg.Region)
	key := layerKey(cfg.Account, repo, digest)
	akid := "ASIA" + strings.ToUpper(randomHex(8))
	q := url.Values{}
	q.Set("X-Amz-Security-Token", base64.StdEncoding.EncodeToString([]byte(randomHex(64))))
	q.Set("X-Amz-Algorithm", "AWS4-HMAC-SHA256")
	q.Set("X-Amz-Date", now.Format(amzDate))
	q.Set("X-Amz-SignedHeaders", "host")
	q.Set("X-Amz-Expires", strconv.Itoa(int(layerURLExpiry.Seconds())))
	q.Set("X-Amz-Credential", fmt.Sprintf("%s/%s/%s/s3/aws4_request", akid, now.Format("20060102"), cfg.Region))
	q.Set("X-Amz-Signature", s.layerSignature(key, q))
	return fmt.Sprintf("https://%s.s3.%s.amazonaws.com/%s?%s", bucket, cfg.Region, key, q.Encode())
}

// layerSignature signs what a presigned layer URL grants: the key, when, for how long, by whom.
func (s *Server) layerSignature(key string, q url.Values) string {
	mac := hmac.New(sha256.New, s.s3Key)
	fmt.Fprintf(mac, "%s\n%s\n%s\n%s", key, q.Get("X-Amz-Date"), q.Get("X-Amz-Expires"), q.Get("X-Amz-Credential"))
	return hex.EncodeToString(mac.Sum(nil))
}

// serveS3 answers S3 as the layer bucket does: presigned GETs only, with S3's own errors.
func (s *Server) serveS3(w http.ResponseWriter, r *http.Request, rec *Request) {
	// The path only: the query of a presigned URL holds its signature, which must not be logged.
	rec.Action = r.Method + " " + r.URL.Path
	w.Header().Set("x-amz-request-id", strings.ToUpper(randomHex(8)))
	w.Header().Set("x-amz-id-2", base64.StdEncoding.EncodeToString([]byte(randomHex(36))))
	w.Header().Set("Server", "AmazonS3")

	cfg := s.config()
	host := hostOnly(r.Host)
	bucket, key := host, strings.TrimPrefix(r.URL.Path, "/")
	if i := strings.Index(host, ".s3."); i > 0 {
		bucket = host[:i]
	} else {
		// Path style, s3.<region>.amazonaws.com/<bucket>/<key>.
		bucket, key, _ = strings.Cut(key, "/")
	}
	q := r.URL.Query()
	presigned := q.Get("X-Amz-Algorithm") != "" || q.Get("X-Amz-Signature") != ""
	auth := r.Header.Get("Authorization")

	switch {
	case presigned && auth != "":
		// S3 refuses two authentication mechanisms at once; the value is echoed as S3 does,
		// which is exactly why a client must never forward the registry's Basic header.
		s3Error(w, r, http.StatusBadRequest, "InvalidArgument",
			"Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter, Signature query string parameter or the Authorization header should be specified",
			"<ArgumentName>Authorization</ArgumentName><ArgumentValue>"+xmlText(auth)+"</ArgumentValue>")
		return
	case auth != "" && !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 "):
		s3Error(w, r, http.StatusBadRequest, "InvalidArgument", "Unsupported Authorization Type",
			"<ArgumentName>Authorization</ArgumentName><ArgumentValue>"+xmlText(auth)+"</ArgumentValue>")
		return
	case bucket == "":
		s3Error(w, r, http.StatusForbidden, "AccessDenied", "Access Denied", "")
		return
	case bucket != layerBucket(cfg.Region):
		s3Error(w, r, http.StatusNotFound, "NoSuchBucket", "The specified bucket does not exist", "<BucketName>"+xmlText(bucket)+"</BucketName>")
		return
	case !presigned:
		// Anonymous, or signed by a caller's own credentials: the layer bucket belongs to ECR,
		// so only ECR's presigned URLs open it.
		s3Error(w, r, http.StatusForbidden, "AccessDenied", "Access Denied", "")
		return
	}
	if !s.checkPresigned(w, r, key, q) {
		return
	}
	switch s.decide("s3:GetObject") {
	case identityDeny, endpointDeny:
		s3Error(w, r, http.StatusForbidden, "AccessDenied", "Access Denied", "")
		return
	case throttled:
		s3Error(w, r, http.StatusServiceUnavailable, "SlowDown", "Please reduce your request rate.", "")
		return
	}
	s.mu.Lock()
	obj, ok := s.reg.objects[key]
	s.mu.Unlock()
	if !ok {
		s3Error(w, r, http.StatusNotFound, "NoSuchKey", "The specified key does not exist.", "<Key>"+xmlText(key)+"</Key>")
		return
	}
	if cfg.LayerDelay > 0 {
		t := time.NewTimer(cfg.LayerDelay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}
	sum := md5.Sum(obj.data)
	w.Header().Set("ETag", `"`+hex.EncodeToString(sum[:])+`"`)
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Accept-Ranges", "bytes")
	http.ServeContent(w, r, "", layerModTime, bytes.NewReader(obj.data))
}

// checkPresigned verifies a presigned URL as S3 would: complete, untampered, not expired, and
// used with the method it was signed for (GET; S3 refuses a HEAD with a GET signature).
func (s *Server) checkPresigned(w http.ResponseWriter, r *http.Request, key string, q url.Values) bool {
	for _, p := range []string{"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature", "X-Amz-Date", "X-Amz-SignedHeaders", "X-Amz-Expires"} {
		if q.Get(p) == "" {
			s3Error(w, r, http.StatusBadRequest, "AuthorizationQueryParametersError",
				"Query-string authentication version 4 requires the X-Amz-Algorithm, X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and X-Amz-Expires parameters.", "")
			return false
		}
	}
	want := s.layerSignature(key, q)
	if r.Method != http.MethodGet || !hmac.Equal([]byte(want), []byte(q.Get("X-Amz-Signature"))) {
		s3Error(w, r, http.StatusForbidden, "SignatureDoesNotMatch",
			"The request signature we calculated does not match the signature you provided. Check your key and signing method.", "")
		return false
	}
	signed, err := time.Parse(amzDate, q.Get("X-Amz-Date"))
	secs, _ := strconv.Atoi(q.Get("X-Amz-Expires"))
	if err != nil || s.now().After(signed.Add(time.Duration(secs)*time.Second)) {
		s3Error(w, r, http.StatusForbidden, "AccessDenied", "Request has expired", "")
		return false
	}
	return true
}

// s3Error answers S3's XML error shape; extra is more elements inside <Error>, already escaped.
func s3Error(w http.ResponseWriter, r *http.Request, status int, code, message, extra string) {
	body := fmt.Sprintf(`<?xml version="1.0" encoding="UTF-8"?>`+"\n"+
		`<Error><Code>%s</Code><Message>%s</Message>%s<RequestId>%s</RequestId><HostId>%s</HostId></Error>`,
		code, xmlText(message), extra, w.Header().Get("x-amz-request-id"), w.Header().Get("x-amz-id-2"))
	w.Header().Set("Content-Type", "application/xml")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		w.Write([]byte(body))
	}
}

// xmlText escapes s for XML character data.
func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return b.String()
}
