// Package wasim simulates the WhatsApp multi-device server on loopback, so an
// unmodified whatsmeow client can pair, log in, exchange end-to-end encrypted
// messages and media with scripted contacts, and suffer injected faults,
// without a phone or a network. It runs in-process (tests, sandbox mode) or
// as a standalone process that several wagate processes share (see Serve and
// Remote).
package wasim

import (
	"crypto/sha256"
	"fmt"
	"sync"
	"time"

	"go.mau.fi/libsignal/ecc"
	signallog "go.mau.fi/libsignal/logger"
	"go.mau.fi/whatsmeow"
	"go.mau.fi/whatsmeow/proto/waCert"
	"go.mau.fi/whatsmeow/util/keys"
	"google.golang.org/protobuf/proto"
)

// rootSeed derives the simulator's root certificate key. It is fixed so that
// every simulator process signs with the same root and a client configured by
// InstallCert trusts any of them.
const rootSeed = "wagate wasim root certificate key v1"

var (
	rootKey     = keys.NewKeyPairFromPrivateKey(clamp(sha256.Sum256([]byte(rootSeed))))
	installOnce sync.Once
)

// InstallCert points whatsmeow's certificate check at the simulator's root
// key. whatsmeow.WACertPubKey is process-global, so a process talks either to
// the real WhatsApp or to simulators, never both; call it before connecting.
func InstallCert() {
	installOnce.Do(func() {
		whatsmeow.WACertPubKey = *rootKey.Pub
		quietSignalLogging()
	})
}

// signalLogOnce guards libsignal's process-global logger, which libsignal
// creates lazily on first use: a data race when two simulators (or
// contacts) start at once. Both InstallCert and a simulator's first
// signature set a quiet one before anything signs.
var signalLogOnce sync.Once

func quietSignalLogging() {
	signalLogOnce.Do(func() {
		var l signallog.Loggable = quietSignalLog{}
		signallog.Setup(&l)
	})
}

type quietSignalLog struct{}

func (quietSignalLog) Debug(string, string)   {}
func (quietSignalLog) Info(string, string)    {}
func (quietSignalLog) Warning(string, string) {}
func (quietSignalLog) Error(string, string)   {}
func (quietSignalLog) Configure(string)       {}

// clamp turns 32 random bytes into a valid Curve25519 private key.
func clamp(k [32]byte) [32]byte {
	k[0] &= 248
	k[31] &= 127
	k[31] |= 64
	return k
}

// certChain builds the noise certificate chain the client verifies in
// handshake.go: root → intermediate (serial 1) → leaf holding the server's
// static noise key.
func certChain(static *keys.KeyPair) ([]byte, error) {
	quietSignalLogging()
	inter := keys.NewKeyPair()
	now := time.Now()
	interCert, err := signedCert(rootKey, &waCert.CertChain_NoiseCertificate_Details{
		Serial: proto.Uint32(1), IssuerSerial: proto.Uint32(whatsmeow.WACertIssuerSerial), Key: inter.Pub[:],
		NotBefore: proto.Uint64(uint64(now.Add(-time.Hour).Unix())), NotAfter: proto.Uint64(uint64(now.Add(10 * 365 * 24 * time.Hour).Unix())),
	})
	if err != nil {
		return nil, err
	}
	leafCert, err := signedCert(inter, &waCert.CertChain_NoiseCertificate_Details{
		Serial: proto.Uint32(2), IssuerSerial: proto.Uint32(1), Key: static.Pub[:],
		NotBefore: proto.Uint64(uint64(now.Add(-time.Hour).Unix())), NotAfter: proto.Uint64(uint64(now.Add(10 * 365 * 24 * time.Hour).Unix())),
	})
	if err != nil {
		return nil, err
	}
	return proto.Marshal(&waCert.CertChain{Intermediate: interCert, Leaf: leafCert})
}

func signedCert(issuer *keys.KeyPair, details *waCert.CertChain_NoiseCertificate_Details) (*waCert.CertChain_NoiseCertificate, error) {
	raw, err := proto.Marshal(details)
	if err != nil {
		return nil, fmt.Errorf("marshal cert details: %w", err)
	}
	sig := ecc.CalculateSignature(ecc.NewDjbECPrivateKey(*issuer.Priv), raw)
	return &waCert.CertChain_NoiseCertificate{Details: raw, Signature: sig[:]}, nil
}
