//! Interned names with dense indices.

use std::sync::Arc;

use rustc_hash::FxHashMap;

/// Interned names with dense indices.
#[derive(Clone, Debug, Default)]
pub(crate) struct Interner {
    names: Vec<Arc<str>>,
    index: FxHashMap<Arc<str>, u32>,
}

/// Tables this small are searched linearly: comparing a few short names beats hashing one.
const LINEAR_LOOKUP: usize = 16;

impl Interner {
    /// Interns a name, keeping `name` itself as the stored copy.
    pub fn intern_shared(&mut self, name: Arc<str>) -> u32 {
        if let Some(i) = self.get_shared(&name) {
            return i;
        }
        let i = self.names.len() as u32;
        self.names.push(name.clone());
        self.index.insert(name, i);
        i
    }

    /// Interns a name, copying it when it is new.
    pub fn intern(&mut self, name: &str) -> u32 {
        if let Some(i) = self.get(name) {
            return i;
        }
        let i = self.names.len() as u32;
        let name: Arc<str> = Arc::from(name);
        self.names.push(name.clone());
        self.index.insert(name, i);
        i
    }

    /// Like [`Interner::get`], trying pointer equality first (see
    /// [`shared_name`](crate::resources::shared_name)).
    #[inline]
    pub fn get_shared(&self, name: &Arc<str>) -> Option<u32> {
        if self.names.len() <= LINEAR_LOOKUP {
            if let Some(i) = self.names.iter().position(|n| Arc::ptr_eq(n, name)) {
                return Some(i as u32);
            }
        }
        self.get(name)
    }

    /// The index of a name, if interned.
    #[inline]
    pub fn get(&self, name: &str) -> Option<u32> {
        if self.names.len() <= LINEAR_LOOKUP {
            return self.names.iter().position(|n| **n == *name).map(|i| i as u32);
        }
        self.index.get(name).copied()
    }

    /// The name of index `i`.
    #[inline]
    pub fn name(&self, i: u32) -> &Arc<str> {
        &self.names[i as usize]
    }

    /// The names, by index.
    pub fn names(&self) -> &[Arc<str>] {
        &self.names
    }

    /// Number of names.
    pub fn len(&self) -> usize {
        self.names.len()
    }
}
