//! The key-value surface the engine needs, so the engine runs on sled or on a `BTreeMap`.

use std::collections::BTreeMap;
use std::path::Path;

use super::StoreError;

pub(crate) type Pairs = Vec<(Vec<u8>, Vec<u8>)>;
/// Write-ahead records `(seq, record)` in log order.
pub(crate) type Records = Vec<(u64, Vec<u8>)>;

#[derive(Clone)]
pub(crate) enum KvOp {
    Put(Vec<u8>, Vec<u8>),
    Del(Vec<u8>),
}

pub(crate) trait Kv: Send {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError>;
    /// Pairs with `lo <= key < hi`, in key order.
    fn range(&self, lo: &[u8], hi: &[u8]) -> Result<Pairs, StoreError>;
    /// Number of keys with `lo <= key < hi`.
    fn count(&self, lo: &[u8], hi: &[u8]) -> Result<u64, StoreError>;
    /// Applies all operations atomically.
    fn apply(&mut self, ops: Vec<KvOp>) -> Result<(), StoreError>;
    /// Makes everything applied so far durable.
    fn sync(&mut self) -> Result<(), StoreError>;
    /// Bytes on disk (0 in memory).
    fn disk_bytes(&self) -> Result<u64, StoreError>;
    /// The write-ahead records that survived (called once, at open).
    fn wal_take(&mut self) -> Records;
    /// Durably appends a record, first dropping every earlier record if `reset`.
    fn wal_write(&mut self, record: Option<(u64, &[u8])>, reset: bool) -> Result<(), StoreError>;
    fn path(&self) -> Option<&Path>;
    /// Makes the store usable again after a write failed (sled stops working after an I/O
    /// error until it is reopened); called before each flush writes.
    fn ready(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
    /// Housekeeping at the end of a flush, once everything is durable.
    fn maintain(&mut self) -> Result<(), StoreError> {
        Ok(())
    }
}

#[derive(Default)]
pub(crate) struct MemKv {
    map: BTreeMap<Vec<u8>, Vec<u8>>,
    wal: Records,
}

impl Kv for MemKv {
    fn get(&self, key: &[u8]) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.map.get(key).cloned())
    }

    fn range(&self, lo: &[u8], hi: &[u8]) -> Result<Pairs, StoreError> {
        if lo >= hi {
            return Ok(Vec::new());
        }
        Ok(self
            .map
            .range(lo.to_vec()..hi.to_vec())
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect())
    }

    fn count(&self, lo: &[u8], hi: &[u8]) -> Result<u64, StoreError> {
        if lo >= hi {
            return Ok(0);
        }
        Ok(self.map.range(lo.to_vec()..hi.to_vec()).count() as u64)
    }

    fn apply(&mut self, ops: Vec<KvOp>) -> Result<(), StoreError> {
        for op in ops {
            match op {
                KvOp::Put(k, v) => {
                    self.map.insert(k, v);
                }
                KvOp::Del(k) => {
                    self.map.remove(&k);
                }
            }
        }
        Ok(())
    }

    fn sync(&mut self) -> Result<(), StoreError> {
        Ok(())
    }

    fn disk_bytes(&self) -> Result<u64, StoreError> {
        Ok(0)
    }

    fn path(&self) -> Option<&Path> {
        None
    }

    fn wal_take(&mut self) -> Records {
        self.wal.clone()
    }

    fn wal_write(&mut self, record: Option<(u64, &[u8])>, reset: bool) -> Result<(), StoreError> {
        if reset {
            self.wal.clear();
        }
        if let Some((seq, r)) = record {
            self.wal.push((seq, r.to_vec()));
        }
        Ok(())
    }
}
