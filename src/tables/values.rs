//! Interned attribute values, and each agent's values.

use std::sync::Arc;

use rustc_hash::FxHashMap;

use super::ix::{AgentIx, KeyIx, ValueIx};
use super::Tables;
use crate::model::Attributes;

/// One interned attribute value.
#[derive(Debug)]
pub(crate) struct ValueInfo {
    key: KeyIx,
    text: Arc<str>,
    scalar: Option<f64>,
}

impl ValueInfo {
    /// The attribute key the value is of.
    #[inline]
    pub fn key(&self) -> KeyIx {
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
    pub(super) fn ghost_values(&mut self, hostname: &str, attrs: &Attributes) -> Vec<ValueIx> {
        let mut values = vec![self.intern_value(KeyIx::HOSTNAME, hostname, None, None)];
        for (k, v) in attrs.iter() {
            if let Some(key) = self.keys.get(k).filter(|&key| key != KeyIx::HOSTNAME) {
                values.push(self.intern_value(key, v.as_str(), Some(v.shared_text()), v.as_scalar()));
            }
        }
        values
    }

    /// The value id of `text` under `key`, interning it (sharing `shared`, the same text, when
    /// given instead of allocating).
    pub(super) fn intern_value(
        &mut self,
        key: KeyIx,
        text: &str,
        shared: Option<&Arc<str>>,
        scalar: Option<f64>,
    ) -> ValueIx {
        let k = key.get();
        if let Some(&v) = self.value_index.get(k).and_then(|m| m.get(text)) {
            return v;
        }
        let v = ValueIx::new(self.values.len());
        let text: Arc<str> = shared.cloned().unwrap_or_else(|| Arc::from(text));
        self.values.push(ValueInfo { key, text: text.clone(), scalar });
        if self.values_per_key.len() <= k {
            self.values_per_key.resize(k + 1, 0);
        }
        self.values_per_key[k] += 1;
        if self.value_index.len() <= k {
            self.value_index.resize_with(k + 1, FxHashMap::default);
        }
        self.value_index[k].insert(text, v);
        v
    }

    /// The value of `key` on `agent`, if it has the attribute.
    #[inline]
    pub fn value_of(&self, agent: AgentIx, key: KeyIx) -> Option<ValueIx> {
        self.agent_values[agent.get() * self.n_keys() + key.get()]
    }

    /// The value `value`.
    #[inline]
    pub fn value(&self, value: ValueIx) -> &ValueInfo {
        &self.values[value.get()]
    }

    /// Number of distinct values of `key` among the agents and running tasks.
    #[inline]
    pub fn values_per_key(&self, key: KeyIx) -> usize {
        self.values_per_key.get(key.get()).copied().unwrap_or(0) as usize
    }
}
