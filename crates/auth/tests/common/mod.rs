//! Helpers shared by the integration tests: test keys, signers, zones.
#![allow(dead_code)]
use abusedesk_auth::dns::zone::Zone;
use abusedesk_auth::dns::{Rdata, Resolver};
use base64::Engine;
use mail_auth::common::crypto::{Algorithm, HashImpl, SigningKey};
use mail_auth::common::headers::{Writable, Writer};
use rsa::pkcs8::EncodePublicKey;

pub fn b64(bytes: &[u8]) -> String {
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

/// An RSA key made by the test (any size, unlike ring's signer).
pub struct TestRsa<H> {
    pub key: rsa::RsaPrivateKey,
    _h: std::marker::PhantomData<H>,
}

impl<H> TestRsa<H> {
    pub fn generate(bits: usize) -> TestRsa<H> {
        let key = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), bits).expect("rsa keygen");
        TestRsa {
            key,
            _h: std::marker::PhantomData,
        }
    }
    pub fn public_b64(&self) -> String {
        b64(self
            .key
            .to_public_key()
            .to_public_key_der()
            .unwrap()
            .as_bytes())
    }
    pub fn with_key(key: rsa::RsaPrivateKey) -> TestRsa<H> {
        TestRsa {
            key,
            _h: std::marker::PhantomData,
        }
    }
}

struct Collect(Vec<u8>);
impl Writer for Collect {
    fn write(&mut self, buf: &[u8]) {
        self.0.extend_from_slice(buf);
    }
}

impl SigningKey for TestRsa<mail_auth::common::crypto::Sha256> {
    type Hasher = mail_auth::common::crypto::Sha256;
    fn sign(&self, input: impl Writable) -> mail_auth::Result<Vec<u8>> {
        let mut c = Collect(Vec::new());
        input.write(&mut c);
        let digest = ring::digest::digest(&ring::digest::SHA256, &c.0);
        Ok(self
            .key
            .sign(rsa::Pkcs1v15Sign::new::<sha2::Sha256>(), digest.as_ref())
            .unwrap())
    }
    fn algorithm(&self) -> Algorithm {
        Algorithm::RsaSha256
    }
}

impl SigningKey for TestRsa<mail_auth::common::crypto::Sha1> {
    type Hasher = mail_auth::common::crypto::Sha1;
    fn sign(&self, input: impl Writable) -> mail_auth::Result<Vec<u8>> {
        let mut c = Collect(Vec::new());
        input.write(&mut c);
        let digest = ring::digest::digest(&ring::digest::SHA1_FOR_LEGACY_USE_ONLY, &c.0);
        Ok(self
            .key
            .sign(rsa::Pkcs1v15Sign::new::<sha1::Sha1>(), digest.as_ref())
            .unwrap())
    }
    fn algorithm(&self) -> Algorithm {
        Algorithm::RsaSha1
    }
}

#[allow(unused)]
fn _assert_hash_impl<H: HashImpl>() {}

/// A zone with TXT records given as `(name, text)`.
pub fn txt_zone(records: &[(&str, &str)]) -> Zone {
    let mut z = Zone::new();
    for (name, text) in records {
        // split long texts into 255-octet character-strings, as a publisher must
        let strings = text.as_bytes().chunks(255).map(<[u8]>::to_vec).collect();
        z.add(name, Rdata::Txt(strings), 300).unwrap();
    }
    z
}

pub fn resolver(zone: Zone) -> Resolver {
    Resolver::from_zone(zone)
}

/// LF to CRLF.
pub fn crlf(s: &str) -> Vec<u8> {
    s.replace("\r\n", "\n").replace('\n', "\r\n").into_bytes()
}

/// Reads a mail-auth style example: DNS lines, blank line, message.
pub fn example(text: &str) -> (Zone, Vec<u8>) {
    let (dns, msg) = text.split_once("\n\n").unwrap();
    let mut z = Zone::new();
    for line in dns.lines() {
        let (name, rec) = line.split_once(' ').unwrap();
        let strings = rec.as_bytes().chunks(255).map(<[u8]>::to_vec).collect();
        z.add(name, Rdata::Txt(strings), 300).unwrap();
    }
    (z, crlf(msg))
}
