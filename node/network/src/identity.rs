//! One key per validator: the validator's ed25519 key (a [`purse_types::Keypair`]) is also its libp2p
//! identity, so its peer id follows from its public key in the validator set.

use libp2p::identity::{self, Keypair};
use libp2p::PeerId;

use crate::error::NetworkError;

/// The libp2p identity for a 32-byte ed25519 secret seed (RFC 8032 private key, what key files store).
pub fn keypair_from_seed(seed: &[u8; 32]) -> Result<Keypair, NetworkError> {
    // libp2p zeroizes the buffer it is given; hand it a copy.
    let mut copy = zeroize_copy(seed);
    Keypair::ed25519_from_bytes(&mut copy[..]).map_err(|e| NetworkError::Key(e.to_string()))
}

/// The libp2p identity of a validator key: same secret, same public key.
pub fn libp2p_keypair(key: &purse_types::Keypair) -> Result<Keypair, NetworkError> {
    keypair_from_seed(&key.seed())
}

/// The peer id of a validator's public key.
pub fn peer_id_from_public(key: &purse_types::PublicKey) -> Result<PeerId, NetworkError> {
    let public = identity::ed25519::PublicKey::try_from_bytes(key.as_bytes())
        .map_err(|e| NetworkError::Key(e.to_string()))?;
    Ok(identity::PublicKey::from(public).to_peer_id())
}

/// The peer id of a 32-byte ed25519 public key.
pub fn peer_id_from_public_bytes(key: &[u8; 32]) -> Result<PeerId, NetworkError> {
    let public = purse_types::PublicKey::from_bytes(*key).map_err(|e| NetworkError::Key(e.to_string()))?;
    peer_id_from_public(&public)
}

/// The validator public key a peer id stands for, if it is an ed25519 peer id (ed25519 peer ids embed the
/// key). Lets the engine map a gossip sender or sync peer back to a validator.
pub fn public_from_peer_id(peer: &PeerId) -> Option<purse_types::PublicKey> {
    let mh = peer.as_ref();
    // Keys of at most 42 bytes are embedded with the identity multihash (code 0).
    if mh.code() != 0 {
        return None;
    }
    let public = identity::PublicKey::try_decode_protobuf(mh.digest()).ok()?;
    let ed = public.try_into_ed25519().ok()?;
    purse_types::PublicKey::from_bytes(ed.to_bytes()).ok()
}

fn zeroize_copy(seed: &[u8; 32]) -> zeroize::Zeroizing<[u8; 32]> {
    zeroize::Zeroizing::new(*seed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_key_for_validator_and_peer() {
        let v = purse_types::Keypair::from_seed(&[7u8; 32]);
        let kp = libp2p_keypair(&v).unwrap();
        let from_secret = kp.public().to_peer_id();
        let from_public = peer_id_from_public(&v.public()).unwrap();
        assert_eq!(from_secret, from_public);
        assert_eq!(peer_id_from_public_bytes(v.public().as_bytes()).unwrap(), from_public);
        assert_eq!(public_from_peer_id(&from_public), Some(v.public()));
        // The libp2p public key is the validator's public key.
        let ed = kp.public().try_into_ed25519().unwrap();
        assert_eq!(&ed.to_bytes(), v.public().as_bytes());
    }

    #[test]
    fn different_keys_different_peers() {
        let a = peer_id_from_public(&purse_types::Keypair::from_seed(&[1u8; 32]).public()).unwrap();
        let b = peer_id_from_public(&purse_types::Keypair::from_seed(&[2u8; 32]).public()).unwrap();
        assert_ne!(a, b);
    }

    #[test]
    fn invalid_public_keys_and_foreign_peer_ids() {
        // Not a curve point / small order: rejected, no panic.
        assert!(peer_id_from_public_bytes(&[0u8; 32]).is_err());
        // Random bytes under the identity multihash are no protobuf-encoded key.
        assert_eq!(public_from_peer_id(&PeerId::random()), None);
        // Any ed25519 libp2p identity maps back to its key bytes.
        let other = libp2p::identity::Keypair::generate_ed25519();
        let key = public_from_peer_id(&other.public().to_peer_id()).unwrap();
        assert_eq!(key.as_bytes(), &other.public().try_into_ed25519().unwrap().to_bytes());
    }
}
