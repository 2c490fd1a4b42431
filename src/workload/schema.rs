//! The workload JSON document as serde sees it: a faithful mirror of the text, before validation.
//!
//! Objects reject unknown fields, maps reject duplicate keys, and every type error carries
//! serde_json's line and column. The same types serialize back to the same format, so the
//! generator writes exactly what `solve` reads.

use std::fmt;
use std::marker::PhantomData;

use serde::de::{self, Deserializer, MapAccess, SeqAccess, Visitor};
use serde::ser::{SerializeMap, SerializeSeq, Serializer};
use serde::{Deserialize, Serialize};

/// The whole workload document.
#[derive(Clone, Debug, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct WorkloadDoc {
    #[serde(default)]
    pub offers: Vec<OfferDoc>,
    #[serde(default)]
    pub tasks: Vec<TaskDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub running: Vec<RunningDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub fitness: Option<FitnessDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hold_seconds: Option<f64>,
    /// Queue buckets by name.
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub buckets: Map<BucketDoc>,
    /// Queue tiers, tier 0 first.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tiers: Option<Vec<TierDoc>>,
    /// Autoscaling hints' rules.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub autoscale: Option<super::autoscale::AutoscaleDoc>,
    /// Disruption budgets by group (preemption).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub groups: Map<GroupDoc>,
}

/// One group's settings: its disruption budget.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct GroupDoc {
    /// Below 1 a share of the group's running tasks, from 1 a count.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_unavailable: Option<f64>,
}

/// One queue bucket's configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct BucketDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub weight: Option<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub guarantee: Option<ResourcesDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub limit: Option<ResourcesDoc>,
}

/// One queue tier's configuration.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TierDoc {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub capacity: Option<ResourcesDoc>,
}

/// One offer.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct OfferDoc {
    pub id: String,
    pub agent_id: String,
    pub hostname: String,
    #[serde(default)]
    pub resources: ResourcesDoc,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub reserved: Map<ResourcesDoc>,
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub attributes: Map<AttrDoc>,
}

/// One pending task.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct TaskDoc {
    pub id: String,
    /// Without one, the task is a group of its own, named by its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    #[serde(default)]
    pub resources: ResourcesDoc,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ports: Option<PortsDoc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub roles: Option<Vec<String>>,
    #[serde(default, skip_serializing_if = "is_zero")]
    pub priority: i32,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub constraints: Vec<ConstraintDoc>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub soft_constraints: Vec<ConstraintDoc>,
    /// Queue tier (0 is served first).
    #[serde(default, skip_serializing_if = "is_tier_zero")]
    pub tier: u32,
    /// Queue bucket; `"default"` when not given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bucket: Option<String>,
    /// Ids of pending tasks that must finish before this one is placed.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub after: Vec<String>,
    /// Gang: tasks naming the same gang are placed all together, or none; a name, or
    /// `{"name": .., "size": ..}` declaring its size.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gang: Option<GangDoc>,
    /// The gang's declared size (beside a gang given by name).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub gang_size: Option<u32>,
    /// Key/value labels a live run gives the task's `TaskInfo` (`solve` ignores them).
    #[serde(default, skip_serializing_if = "Map::is_empty")]
    pub labels: Map<String>,
}

/// A task's gang: its name, or its name and declared size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub(crate) enum GangDoc {
    /// `"gang": "name"`.
    Name(String),
    /// `"gang": {"name": "name", "size": 4}`.
    Sized(SizedGangDoc),
}

/// A gang with its declared size.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct SizedGangDoc {
    pub name: String,
    pub size: u32,
}

fn is_zero(n: &i32) -> bool {
    *n == 0
}

fn is_tier_zero(n: &u32) -> bool {
    *n == 0
}

/// One running task.
#[derive(Clone, Debug, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RunningDoc {
    pub id: String,
    /// Without one, the task is a group of its own, named by its id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub group: Option<String>,
    pub agent_id: String,
    #[serde(default)]
    pub resources: ResourcesDoc,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hostname: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attributes: Option<Map<AttrDoc>>,
    /// Priority of the task's request (preemption evicts lower standing only).
    #[serde(default, skip_serializing_if = "is_zero")]
    pub priority: i32,
    /// Queue tier of the task's request.
    #[serde(default, skip_serializing_if = "is_tier_zero")]
    pub tier: u32,
}

/// A JSON object kept in document order; deserializing rejects a key given twice.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Map<V>(pub Vec<(String, V)>);

impl<V> Default for Map<V> {
    fn default() -> Self {
        Map(Vec::new())
    }
}

impl<V> Map<V> {
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl<V: Serialize> Serialize for Map<V> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (k, v) in &self.0 {
            map.serialize_entry(k, v)?;
        }
        map.end()
    }
}

impl<'de, V: Deserialize<'de>> Deserialize<'de> for Map<V> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct MapVisitor<V>(PhantomData<V>);
        impl<'de, V: Deserialize<'de>> Visitor<'de> for MapVisitor<V> {
            type Value = Map<V>;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<Map<V>, A::Error> {
                let mut entries: Vec<(String, V)> = Vec::new();
                while let Some(key) = access.next_key::<String>()? {
                    if entries.iter().any(|(k, _)| *k == key) {
                        return Err(de::Error::custom(format_args!("duplicate key {key:?}")));
                    }
                    let value = access.next_value()?;
                    entries.push((key, value));
                }
                Ok(Map(entries))
            }
        }
        d.deserialize_map(MapVisitor(PhantomData))
    }
}

/// Resources: named scalar amounts, and port ranges under `ports`.
#[derive(Clone, Debug, Default, PartialEq)]
pub(crate) struct ResourcesDoc {
    /// Scalars in document order, names unique.
    pub scalars: Vec<(String, f64)>,
    /// `[begin, end]` ranges, unchecked.
    pub ports: Option<Vec<[u64; 2]>>,
}

impl Serialize for ResourcesDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let len = self.scalars.len() + usize::from(self.ports.is_some());
        let mut map = s.serialize_map(Some(len))?;
        for (name, amount) in &self.scalars {
            map.serialize_entry(name, amount)?;
        }
        if let Some(ports) = &self.ports {
            map.serialize_entry("ports", ports)?;
        }
        map.end()
    }
}

impl<'de> Deserialize<'de> for ResourcesDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct ResourcesVisitor;
        impl<'de> Visitor<'de> for ResourcesVisitor {
            type Value = ResourcesDoc;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of resource amounts")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut access: A) -> Result<ResourcesDoc, A::Error> {
                let mut doc = ResourcesDoc::default();
                while let Some(name) = access.next_key::<String>()? {
                    let seen = doc.scalars.iter().any(|(n, _)| *n == name);
                    if seen || (name == "ports" && doc.ports.is_some()) {
                        return Err(de::Error::custom(format_args!("resource {name:?} is given twice")));
                    }
                    if name == "ports" {
                        doc.ports = Some(access.next_value()?);
                    } else {
                        doc.scalars.push((name, access.next_value()?));
                    }
                }
                Ok(doc)
            }
        }
        d.deserialize_map(ResourcesVisitor)
    }
}

/// An attribute value: text or a number.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum AttrDoc {
    Text(String),
    Number(f64),
}

impl Serialize for AttrDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            AttrDoc::Text(t) => s.serialize_str(t),
            AttrDoc::Number(n) => s.serialize_f64(*n),
        }
    }
}

impl<'de> Deserialize<'de> for AttrDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextOrNumber).map(|v| match v {
            Loose::Text(t) => AttrDoc::Text(t),
            Loose::Number(n) => AttrDoc::Number(n),
        })
    }
}

/// A string or a number, as read.
enum Loose {
    Text(String),
    Number(f64),
}

struct TextOrNumber;

impl Visitor<'_> for TextOrNumber {
    type Value = Loose;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a string or a number")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Loose, E> {
        Ok(Loose::Text(v.to_owned()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Loose, E> {
        Ok(Loose::Text(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Loose, E> {
        Ok(Loose::Number(v as f64))
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Loose, E> {
        Ok(Loose::Number(v as f64))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Loose, E> {
        Ok(Loose::Number(v))
    }
}

/// A task's port request: a count, or `{"count": n, "specific": [..]}`.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum PortsDoc {
    Count(u32),
    Detail(PortDetail),
}

/// The object form of a port request.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct PortDetail {
    #[serde(default)]
    pub count: u32,
    #[serde(default)]
    pub specific: Vec<u64>,
}

impl Serialize for PortsDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            PortsDoc::Count(n) => s.serialize_u32(*n),
            PortsDoc::Detail(detail) => detail.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for PortsDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct PortsVisitor;
        impl<'de> Visitor<'de> for PortsVisitor {
            type Value = PortsDoc;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a port count or an object {\"count\": n, \"specific\": [ports]}")
            }
            fn visit_u64<E: de::Error>(self, v: u64) -> Result<PortsDoc, E> {
                u32::try_from(v).map(PortsDoc::Count).map_err(|_| E::invalid_value(de::Unexpected::Unsigned(v), &self))
            }
            fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<PortsDoc, A::Error> {
                PortDetail::deserialize(de::value::MapAccessDeserializer::new(access)).map(PortsDoc::Detail)
            }
        }
        d.deserialize_any(PortsVisitor)
    }
}

/// A Marathon-style constraint: `[attribute, operator]`, `[attribute, operator, value]`, or with
/// a fourth element, a weight (soft constraints only).
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct ConstraintDoc {
    pub attribute: String,
    pub operator: String,
    pub value: Option<String>,
    pub weight: Option<f64>,
}

impl Serialize for ConstraintDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let len = 2 + usize::from(self.value.is_some() || self.weight.is_some()) + usize::from(self.weight.is_some());
        let mut seq = s.serialize_seq(Some(len))?;
        seq.serialize_element(&self.attribute)?;
        seq.serialize_element(&self.operator)?;
        if self.value.is_some() || self.weight.is_some() {
            seq.serialize_element(&self.value)?;
        }
        if let Some(w) = self.weight {
            seq.serialize_element(&w)?;
        }
        seq.end()
    }
}

impl<'de> Deserialize<'de> for ConstraintDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_seq(ConstraintVisitor)
    }
}

struct ConstraintVisitor;

impl<'de> Visitor<'de> for ConstraintVisitor {
    type Value = ConstraintDoc;
    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("a constraint [attribute, operator, value?, weight?]")
    }
    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<ConstraintDoc, A::Error> {
        let attribute: String = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(0, &self))?;
        let operator: String = seq.next_element()?.ok_or_else(|| de::Error::invalid_length(1, &self))?;
        let value = seq.next_element::<Option<OptionalText>>()?.flatten().map(|v| v.0);
        let weight: Option<f64> = seq.next_element()?;
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(5, &self));
        }
        Ok(ConstraintDoc { attribute, operator, value, weight })
    }
}

/// A constraint value: a string, a number (kept as its text) or null.
struct OptionalText(String);

impl<'de> Deserialize<'de> for OptionalText {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        d.deserialize_any(TextOrNumber).map(|v| match v {
            Loose::Text(t) => OptionalText(t),
            Loose::Number(n) => OptionalText(n.to_string()),
        })
    }
}

/// The fitness: a built-in's name, or `{name: weight}` for a weighted mix.
#[derive(Clone, Debug, PartialEq)]
pub(crate) enum FitnessDoc {
    Name(String),
    Mix(Map<f64>),
}

impl Serialize for FitnessDoc {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            FitnessDoc::Name(name) => s.serialize_str(name),
            FitnessDoc::Mix(parts) => parts.serialize(s),
        }
    }
}

impl<'de> Deserialize<'de> for FitnessDoc {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct FitnessVisitor;
        impl<'de> Visitor<'de> for FitnessVisitor {
            type Value = FitnessDoc;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a fitness name or an object {name: weight}")
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<FitnessDoc, E> {
                Ok(FitnessDoc::Name(v.to_owned()))
            }
            fn visit_map<A: MapAccess<'de>>(self, access: A) -> Result<FitnessDoc, A::Error> {
                Map::deserialize(de::value::MapAccessDeserializer::new(access)).map(FitnessDoc::Mix)
            }
        }
        d.deserialize_any(FitnessVisitor)
    }
}
