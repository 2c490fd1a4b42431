//! Interned attribute values, and each agent's values.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::Tables;
use crate::model::Attributes;

/// One interned attribute value.
#[derive(Debug)]
pub(crate) struct ValueInfo {
    key: u32,
    text: Arc<str>,
    scalar: Option<f64>,
}

impl ValueInfo {
    /// The attribute key the value is of.
    #[inline]
    pub fn key(&self) -> u32 {
        self.key
    }

    /// The value's text.
    #[inline]
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The value as a number, for scalar attributes.
    #[inline]
    pub fn scalar(&self) -> Option<f64> {
        self.scalar
    }
}

impl Tables {
    /// The values of a running task's host that is not among the agents (by its details).
    pub(super) fn ghost_values(&mut self, hostname: &str, attrs: &Attributes) -> Vec<u32> {
        let mut values = vec![self.intern_value(0, hostname, None, None)];
        for (k, v) in attrs.iter() {
            if let Some(key) = self.keys.get(k).filter(|&key| key != 0) {
                values.push(self.intern_value(key, v.as_str(), Some(v.shared_text()), v.as_scalar()));
            }
        }
        values
    }

    /// The value id of `text` under `key`, interning it (sharing `shared`, the same text, when
    /// given instead of allocating).
    pub(super) fn intern_value(&mut self, key: u32, text: &str, shared: Option<&Arc<str>>, scalar: Option<f64>) -> u32 {
        if let Some(&v) = self.value_index.get(key as usize).and_then(|m| m.get(text)) {
            return v;
        }
        let v = self.values.len() as u32;
        let text: Arc<str> = shared.cloned().unwrap_or_else(|| Arc::from(text));
        self.values.push(ValueInfo { key, text: text.clone(), scalar });
        if self.values_per_key.len() <= key as usize {
            self.values_per_key.resize(key as usize + 1, 0);
        }
        self.values_per_key[key as usize] += 1;
        if self.value_index.len() <= key as usize {
            self.value_index.resize_with(key as usize + 1, FxHashMap::default);
        }
        self.value_index[key as usize].insert(text, v);
        v
    }

    /// The value id of `key` on `agent`, or [`NONE`](super::NONE).
    #[inline]
    pub fn value_of(&self, agent: u32, key: u32) -> u32 {
        self.agent_values[agent as usize * self.n_keys() + key as usize]
    }

    /// The value of id `value`.
    #[inline]
    pub fn value(&self, value: u32) -> &ValueInfo {
        &self.values[value as usize]
    }

    /// Number of distinct values of `key` among the agents and running tasks.
    #[inline]
    pub fn values_per_key(&self, key: u32) -> usize {
        self.values_per_key.get(key as usize).copied().unwrap_or(0) as usize
    }
}
