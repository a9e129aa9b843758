//! In-memory history (`--no-history`, tests): the same engine over a `BTreeMap`, so it
//! compresses, rolls up and expires exactly like the sled store but forgets on exit.

use super::engine::Engine;
use super::kv::MemKv;
use super::StoreConfig;

pub struct MemoryStore {
    pub(crate) engine: Engine<MemKv>,
}

impl MemoryStore {
    #[must_use]
    pub fn new(cfg: StoreConfig) -> Self {
        Self {
            engine: Engine::new(MemKv::default(), cfg),
        }
    }
}

delegate_history_store!(MemoryStore);
