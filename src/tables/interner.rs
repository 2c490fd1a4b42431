//! Interned names with dense, typed indices.

use std::marker::PhantomData;
use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::ix::Ix;

/// Interned names with dense indices of type `I`.
#[derive(Clone, Debug)]
pub(crate) struct Interner<I> {
    names: Vec<Arc<str>>,
    index: FxHashMap<Arc<str>, u32>,
    ix: PhantomData<I>,
}

impl<I> Default for Interner<I> {
    fn default() -> Self {
        Interner { names: Vec::new(), index: FxHashMap::default(), ix: PhantomData }
    }
}

/// Tables this small are searched linearly: comparing a few short names beats hashing one.
const LINEAR_LOOKUP: usize = 16;

impl<I: Ix> Interner<I> {
    /// Interns a name, keeping `name` itself as the stored copy.
    pub fn intern_shared(&mut self, name: Arc<str>) -> I {
        if let Some(i) = self.get_shared(&name) {
            return i;
        }
        let i = self.names.len();
        self.names.push(name.clone());
        self.index.insert(name, i as u32);
        I::new(i)
    }

    /// Interns a name, copying it when it is new.
    pub fn intern(&mut self, name: &str) -> I {
        if let Some(i) = self.get(name) {
            return i;
        }
        let i = self.names.len();
        let name: Arc<str> = Arc::from(name);
        self.names.push(name.clone());
        self.index.insert(name, i as u32);
        I::new(i)
    }

    /// Like [`Interner::get`], trying pointer equality first (see
    /// [`shared_name`](crate::resources::shared_name)).
    #[inline]
    pub fn get_shared(&self, name: &Arc<str>) -> Option<I> {
        if self.names.len() <= LINEAR_LOOKUP {
            if let Some(i) = self.names.iter().position(|n| Arc::ptr_eq(n, name)) {
                return Some(I::new(i));
            }
        }
        self.get(name)
    }

    /// The index of a name, if interned.
    #[inline]
    pub fn get(&self, name: &str) -> Option<I> {
        if self.names.len() <= LINEAR_LOOKUP {
            return self.names.iter().position(|n| **n == *name).map(I::new);
        }
        self.index.get(name).map(|&i| I::new(i as usize))
    }

    /// The name of index `i`.
    #[inline]
    pub fn name(&self, i: I) -> &Arc<str> {
        &self.names[i.get()]
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
