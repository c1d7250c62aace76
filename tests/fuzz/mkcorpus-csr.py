#!/usr/bin/python3
"""Writes the seed inputs of tests/fuzz/corpus/csr (CSRs for pki_sign_csr)
with the openssl command line and the standard library:

    /usr/bin/python3 tests/fuzz/mkcorpus-csr.py tests/fuzz/corpus/csr

CSRs pki_sign_csr takes (EC P-256 and P-384, one asking for far more than
it gets, the old "NEW CERTIFICATE REQUEST" header) and ones it must refuse
(RSA, Ed25519, secp256k1, explicit curve parameters, a broken signature,
truncated, DER, a certificate, garbage, nothing). Keys are fresh on every
run, so the bytes differ; what each file tests does not.
"""
import os
import subprocess
import sys
import tempfile

out = sys.argv[1]
os.makedirs(out, exist_ok=True)
tmp = tempfile.mkdtemp()


def openssl(*args, data=None):
    return subprocess.run(("openssl",) + args, input=data, check=True,
                          stdout=subprocess.PIPE, stderr=subprocess.DEVNULL).stdout


def write(name, data):
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)


def csr(newkey, subj="/CN=web-01", *extra):
    key = os.path.join(tmp, "k.pem")
    return openssl("req", "-new", "-newkey", newkey, "-nodes", "-keyout", key,
                   "-subj", subj, *extra)


def csr_with_key(key_pem):
    key = os.path.join(tmp, "k.pem")
    with open(key, "wb") as f:
        f.write(key_pem)
    return openssl("req", "-new", "-key", key, "-subj", "/CN=web-01")


p256 = csr("ec", "/CN=web-01", "-pkeyopt", "ec_paramgen_curve:P-256")
write("p256.pem", p256)
write("p384.pem", csr("ec", "/CN=db-2", "-pkeyopt", "ec_paramgen_curve:P-384"))
write("greedy.pem", csr("ec", "/CN=root/O=Evil Corp", "-pkeyopt", "ec_paramgen_curve:P-256",
                        "-addext", "basicConstraints=critical,CA:TRUE",
                        "-addext", "subjectAltName=DNS:collector.example,IP:10.0.0.1",
                        "-addext", "extendedKeyUsage=serverAuth,codeSigning"))
write("new-header.pem", p256.replace(b"CERTIFICATE REQUEST", b"NEW CERTIFICATE REQUEST"))
write("two.pem", p256 + csr("ec", "/CN=b", "-pkeyopt", "ec_paramgen_curve:P-256"))

write("rsa1024.pem", csr("rsa:1024"))
write("ed25519.pem", csr("ed25519"))
write("secp256k1.pem", csr("ec", "/CN=web-01", "-pkeyopt", "ec_paramgen_curve:secp256k1"))
write("explicit.pem", csr_with_key(openssl("ecparam", "-name", "prime256v1",
                                           "-param_enc", "explicit", "-genkey", "-noout")))

der = bytearray(openssl("req", "-in", "-", "-outform", "DER", data=p256))
write("csr.der", bytes(der))
der[-1] ^= 1                       # the last byte of the signature's S
write("badsig.pem", openssl("req", "-inform", "DER", "-in", "-", data=bytes(der)))
write("truncated.pem", p256[:len(p256) // 2])
write("no-end.pem", p256[:p256.index(b"-----END")])
write("cert.pem", openssl("req", "-x509", "-newkey", "ec", "-pkeyopt",
                          "ec_paramgen_curve:P-256", "-nodes", "-keyout",
                          os.path.join(tmp, "k.pem"), "-subj", "/CN=x", "-days", "1"))
write("garbage.txt", b"-----BEGIN CERTIFICATE REQUEST-----\nnot base64 at all!\n"
      b"-----END CERTIFICATE REQUEST-----\n")
write("empty", b"")

for f in os.listdir(tmp):
    os.unlink(os.path.join(tmp, f))
os.rmdir(tmp)
