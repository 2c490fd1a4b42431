//! Agent attributes (text and scalar) as Mesos reports them with each offer.

use std::sync::Arc;

/// The attribute name under which constraints see an agent's hostname.
pub const HOSTNAME: &str = "hostname";

/// One attribute value: its text as constraints compare it, and its number for scalar attributes.
#[derive(Clone, Debug, PartialEq)]
pub struct AttrValue {
    text: Arc<str>,
    scalar: Option<f64>,
}

impl AttrValue {
    /// A text attribute value.
    pub fn text(text: impl AsRef<str>) -> AttrValue {
        AttrValue { text: Arc::from(text.as_ref()), scalar: None }
    }

    /// A scalar attribute value; `None` for NaN or infinite values.
    pub fn scalar(value: f64) -> Option<AttrValue> {
        value.is_finite().then(|| AttrValue { text: Arc::from(format_scalar(value).as_str()), scalar: Some(value) })
    }

    /// The value as text (scalars in their shortest decimal form).
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The text as shared storage (cloning it copies no bytes).
    pub(crate) fn shared_text(&self) -> &Arc<str> {
        &self.text
    }

    /// The numeric value of a scalar attribute.
    pub fn as_scalar(&self) -> Option<f64> {
        self.scalar
    }
}

fn format_scalar(value: f64) -> String {
    if value.fract() == 0.0 && value.abs() < 1e15 {
        format!("{}", value as i64)
    } else {
        format!("{value}")
    }
}

/// Attribute names seen so far, each stored once, up to this many; later names are copied.
const SHARED_NAMES: usize = 256;

/// An attribute name as shared storage. A cluster uses a handful of attribute names on thousands
/// of agents; sharing one allocation per name lets the engine recognise a name by its pointer
/// instead of reading its bytes on every agent of every pass.
fn shared_attribute_name(name: &str) -> Arc<str> {
    use std::sync::{Mutex, OnceLock};
    static NAMES: OnceLock<Mutex<Vec<Arc<str>>>> = OnceLock::new();
    let names = NAMES.get_or_init(|| Mutex::new(Vec::new()));
    let Ok(mut names) = names.lock() else {
        return Arc::from(name);
    };
    if let Some(known) = names.iter().find(|n| ***n == *name) {
        return known.clone();
    }
    let made: Arc<str> = Arc::from(name);
    if names.len() < SHARED_NAMES {
        names.push(made.clone());
    }
    made
}

/// An agent's attributes, sorted by name, names unique.
///
/// ```
/// use offerpack::{Attributes, AttrValue};
/// let attrs = Attributes::from_pairs([("zone", AttrValue::text("a"))]);
/// assert_eq!(attrs.get("zone").map(AttrValue::as_str), Some("a"));
/// ```
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Attributes {
    entries: Vec<(Arc<str>, AttrValue)>,
}

impl Attributes {
    /// No attributes.
    pub const fn new() -> Attributes {
        Attributes { entries: Vec::new() }
    }

    /// Attributes from pairs; a later pair with the same name replaces an earlier one.
    pub fn from_pairs<K: AsRef<str>>(pairs: impl IntoIterator<Item = (K, AttrValue)>) -> Attributes {
        let mut attrs = Attributes::new();
        for (name, value) in pairs {
            attrs.insert(name.as_ref(), value);
        }
        attrs
    }

    /// Sets one attribute.
    pub fn insert(&mut self, name: &str, value: AttrValue) {
        match self.entries.binary_search_by(|(k, _)| (**k).cmp(name)) {
            Ok(i) => self.entries[i].1 = value,
            Err(i) => self.entries.insert(i, (shared_attribute_name(name), value)),
        }
    }

    /// All attributes with their names as shared storage (for pointer-first lookups).
    pub(crate) fn iter_shared(&self) -> impl Iterator<Item = (&Arc<str>, &AttrValue)> {
        self.entries.iter().map(|(k, v)| (k, v))
    }

    /// Where the entries are stored, to ask for them ahead of a read.
    pub(crate) fn storage(&self) -> *const u8 {
        self.entries.as_ptr().cast()
    }

    /// The value of one attribute.
    pub fn get(&self, name: &str) -> Option<&AttrValue> {
        self.entries.binary_search_by(|(k, _)| (**k).cmp(name)).ok().map(|i| &self.entries[i].1)
    }

    /// All attributes, sorted by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &AttrValue)> {
        self.entries.iter().map(|(k, v)| (&**k, v))
    }

    /// Number of attributes.
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether there are no attributes.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_replace_and_sort() {
        let attrs = Attributes::from_pairs([
            ("zone", AttrValue::text("a")),
            ("rack", AttrValue::text("r1")),
            ("zone", AttrValue::text("b")),
        ]);
        let names: Vec<_> = attrs.iter().map(|(k, _)| k).collect();
        assert_eq!(names, ["rack", "zone"]);
        assert_eq!(attrs.get("zone").unwrap().as_str(), "b");
    }

    #[test]
    fn attr_value_scalar_text_is_short() {
        assert_eq!(AttrValue::scalar(3.0).unwrap().as_str(), "3");
        assert_eq!(AttrValue::scalar(2.5).unwrap().as_str(), "2.5");
        assert!(AttrValue::scalar(f64::NAN).is_none());
    }
}
