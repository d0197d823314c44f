//! Bundles as the stub and `consfig bundle --info` read them: the bytes as
//! given (their trailer and checksum must already hold), then the bytes
//! after the first as the body of a bundle whose trailer is made to match,
//! with a stub as long as the first byte says — what anyone can craft, the
//! checksum being no signature — so the reading behind the checksum is
//! reached: it must refuse, never panic.

#![no_main]

use consfig::bundle::format::Bundle;
use libfuzzer_sys::fuzz_target;
use sha2::{Digest, Sha256};

/// The trailer's magic, as `bundle::format` writes it.
const MAGIC: &[u8; 16] = b"consfig-bundle\0\x01";

fn sealed(body: &[u8], stub_len: usize) -> Vec<u8> {
    let mut bytes = body.to_vec();
    bytes.extend_from_slice(&(stub_len as u64).to_le_bytes());
    bytes.extend_from_slice(&((body.len() - stub_len) as u64).to_le_bytes());
    bytes.extend_from_slice(&Sha256::digest(body));
    bytes.extend_from_slice(MAGIC);
    bytes
}

fn read(bytes: Vec<u8>) {
    let len = bytes.len();
    if let Ok(bundle) = Bundle::parse(bytes, "fuzz") {
        let _ = bundle.describe();
        let code: usize = bundle.compiled().map(|(_, code)| code.len()).sum();
        assert!(bundle.stub().len() + code < len);
    }
}

fuzz_target!(|data: &[u8]| {
    read(data.to_vec());
    if let Some((&stub, body)) = data.split_first() {
        read(sealed(body, (stub as usize).min(body.len())));
    }
});
