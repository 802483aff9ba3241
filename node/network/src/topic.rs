//! Gossip topics and content-addressed message ids.

use std::fmt;

use libp2p::gossipsub::{IdentTopic, TopicHash};
use purse_types::ChainId;

use crate::config::{MAX_CONSENSUS_GOSSIP_BYTES, MAX_TX_GOSSIP_BYTES};

/// A gossip topic. The wire name includes the chain id: `/purse/<chain id>/tx/1` and
/// `/purse/<chain id>/consensus/1`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Topic {
    /// Transactions gossiped to every mempool.
    Transactions,
    /// Proposals and votes.
    Consensus,
}

impl Topic {
    /// Every topic; a node subscribes to all of them.
    pub const ALL: [Topic; 2] = [Topic::Transactions, Topic::Consensus];

    /// The topic's wire name for a chain.
    pub fn name(self, chain_id: &ChainId) -> String {
        let kind = match self {
            Topic::Transactions => "tx",
            Topic::Consensus => "consensus",
        };
        format!("/purse/{}/{kind}/1", chain_id.as_str())
    }

    /// The largest payload published or accepted on this topic.
    pub fn max_message_bytes(self) -> usize {
        match self {
            Topic::Transactions => MAX_TX_GOSSIP_BYTES,
            Topic::Consensus => MAX_CONSENSUS_GOSSIP_BYTES,
        }
    }

    pub(crate) fn ident(self, chain_id: &ChainId) -> IdentTopic {
        IdentTopic::new(self.name(chain_id))
    }
}

/// Maps gossipsub topic hashes back to [`Topic`]s for one chain.
#[derive(Clone, Debug)]
pub(crate) struct Topics {
    hashes: [(Topic, TopicHash); 2],
}

impl Topics {
    pub(crate) fn new(chain_id: &ChainId) -> Topics {
        Topics { hashes: Topic::ALL.map(|t| (t, t.ident(chain_id).hash())) }
    }

    pub(crate) fn topic(&self, hash: &TopicHash) -> Option<Topic> {
        self.hashes.iter().find(|(_, h)| h == hash).map(|(t, _)| *t)
    }

    pub(crate) fn hash(&self, topic: Topic) -> TopicHash {
        match topic {
            Topic::Transactions => self.hashes[0].1.clone(),
            Topic::Consensus => self.hashes[1].1.clone(),
        }
    }
}

/// The id of a gossip message: a keyed blake3 hash of its topic and content, so the same payload published
/// twice (or by two nodes) is one message, deduplicated everywhere.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct MessageId(pub [u8; 32]);

/// blake3 key-derivation context for message ids (a distinct domain from every chain hash).
const MESSAGE_ID_CONTEXT: &str = "purse-network 2026 gossip message id v1";

impl MessageId {
    /// The id of `data` published on the topic with wire name `topic`.
    pub fn compute(topic: &str, data: &[u8]) -> MessageId {
        let mut h = blake3::Hasher::new_derive_key(MESSAGE_ID_CONTEXT);
        h.update(&(topic.len() as u64).to_le_bytes());
        h.update(topic.as_bytes());
        h.update(data);
        MessageId(*h.finalize().as_bytes())
    }

    pub(crate) fn to_gossipsub(self) -> libp2p::gossipsub::MessageId {
        libp2p::gossipsub::MessageId(self.0.to_vec())
    }

    pub(crate) fn from_gossipsub(id: &libp2p::gossipsub::MessageId) -> Option<MessageId> {
        <[u8; 32]>::try_from(id.0.as_slice()).ok().map(MessageId)
    }
}

impl fmt::Debug for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "MessageId({})", hex_prefix(&self.0))
    }
}

impl fmt::Display for MessageId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for b in self.0 {
            write!(f, "{b:02x}")?;
        }
        Ok(())
    }
}

fn hex_prefix(bytes: &[u8; 32]) -> String {
    bytes[..8].iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_include_chain_id() {
        let c = ChainId::new("purse-test").unwrap();
        assert_eq!(Topic::Transactions.name(&c), "/purse/purse-test/tx/1");
        assert_eq!(Topic::Consensus.name(&c), "/purse/purse-test/consensus/1");
        let other = ChainId::new("other").unwrap();
        assert_ne!(Topic::Consensus.name(&c), Topic::Consensus.name(&other));
        let t = Topics::new(&c);
        for topic in Topic::ALL {
            assert_eq!(t.topic(&t.hash(topic)), Some(topic));
        }
        assert_eq!(t.topic(&Topic::Consensus.ident(&other).hash()), None);
    }

    #[test]
    fn message_id_is_content_hash() {
        let a = MessageId::compute("/purse/x/tx/1", b"hello");
        assert_eq!(a, MessageId::compute("/purse/x/tx/1", b"hello"));
        assert_ne!(a, MessageId::compute("/purse/x/tx/1", b"hellO"));
        assert_ne!(a, MessageId::compute("/purse/x/consensus/1", b"hello"));
        // Topic/data boundary is unambiguous.
        assert_ne!(MessageId::compute("ab", b"c"), MessageId::compute("a", b"bc"));
        assert_eq!(MessageId::from_gossipsub(&a.to_gossipsub()), Some(a));
        assert_eq!(MessageId::from_gossipsub(&libp2p::gossipsub::MessageId(vec![1, 2])), None);
    }
}
