//! The agent flags `--resources` and `--attributes` in Mesos' text syntax (MESOS-PROTOCOL-2 §5),
//! parsed into [`Resource`]s and [`Attribute`]s. Pure: no I/O.
//!
//! Values follow `values::parse`: spaces are removed first; `[a-b,c-d]` is RANGES, `{a,b}` SET,
//! a finite non-negative number SCALAR, anything else TEXT. Hence `zone:01` is SCALAR 1 and
//! `floor:-1` TEXT `"-1"`, as on a real agent.

use std::fmt;

use crate::mesos::v1::{resource::ReservationInfo, value, Attribute, Resource};

/// Why a `--resources` or `--attributes` value was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FlagError {
    message: String,
}

impl FlagError {
    fn new(message: impl Into<String>) -> FlagError {
        FlagError { message: message.into() }
    }
}

impl fmt::Display for FlagError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for FlagError {}

/// A parsed value (the `Value` oneof of the protos, without the type tag).
#[derive(Clone, Debug, PartialEq)]
enum Parsed {
    Scalar(f64),
    Ranges(Vec<(u64, u64)>),
    Set(Vec<String>),
    Text(String),
}

impl Parsed {
    fn kind(&self) -> value::Type {
        match self {
            Parsed::Scalar(_) => value::Type::Scalar,
            Parsed::Ranges(_) => value::Type::Ranges,
            Parsed::Set(_) => value::Type::Set,
            Parsed::Text(_) => value::Type::Text,
        }
    }
}

/// `values::parse` of one value text (spaces already removed by the caller or not).
fn parse_value(text: &str) -> Result<Parsed, FlagError> {
    let text: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    let opens = |c: char| text.contains(c);
    if let Some(inner) = text.strip_prefix('[') {
        let inner = inner.strip_suffix(']').ok_or_else(|| FlagError::new(format!("Bad value '{text}'")))?;
        return parse_ranges(inner, &text).map(Parsed::Ranges);
    }
    if let Some(inner) = text.strip_prefix('{') {
        let inner = inner.strip_suffix('}').ok_or_else(|| FlagError::new(format!("Bad value '{text}'")))?;
        if inner.contains(['{', '}', '[', ']']) {
            return Err(FlagError::new(format!("Bad value '{text}'")));
        }
        let items = inner.split(',').filter(|s| !s.is_empty()).map(str::to_owned).collect();
        return Ok(Parsed::Set(items));
    }
    if opens('[') || opens(']') || opens('{') || opens('}') {
        return Err(FlagError::new(format!("Bad value '{text}'")));
    }
    match text.parse::<f64>() {
        Ok(x) if x.is_finite() && x >= 0.0 && (x == 0.0 || x.is_normal()) && !text.is_empty() => Ok(Parsed::Scalar(x)),
        _ => Ok(Parsed::Text(text)),
    }
}

/// `a-b,c-d` into sorted ranges, overlapping or adjacent ones merged.
fn parse_ranges(inner: &str, whole: &str) -> Result<Vec<(u64, u64)>, FlagError> {
    let bad = || FlagError::new(format!("Bad value '{whole}'"));
    let mut ranges = Vec::new();
    for part in inner.split(',').filter(|s| !s.is_empty()) {
        let (a, b) = part.split_once('-').ok_or_else(bad)?;
        let (a, b) = (a.parse::<u64>().map_err(|_| bad())?, b.parse::<u64>().map_err(|_| bad())?);
        if a > b {
            return Err(bad());
        }
        ranges.push((a, b));
    }
    ranges.sort_unstable();
    let mut merged: Vec<(u64, u64)> = Vec::new();
    for (a, b) in ranges {
        match merged.last_mut() {
            Some(last) if a <= last.1.saturating_add(1) => last.1 = last.1.max(b),
            _ => merged.push((a, b)),
        }
    }
    Ok(merged)
}

fn to_ranges(ranges: &[(u64, u64)]) -> crate::mesos::v1::value::Ranges {
    value::Ranges { range: ranges.iter().map(|&(begin, end)| value::Range { begin, end }).collect() }
}

/// Parses `--resources` in the text form `name[(role)]:value;…` (MESOS-PROTOCOL-2 §5.2): a role
/// makes a static reservation; TEXT values and one name with two types are errors.
///
/// ```
/// use offerpack::agent::flags::parse_resources;
/// let r = parse_resources("cpus:4; mem:8192;ports:[31000-31999]").unwrap();
/// assert_eq!(r.len(), 3);
/// assert_eq!(r[0].scalar.as_ref().unwrap().value, 4.0);
/// ```
pub fn parse_resources(text: &str) -> Result<Vec<Resource>, FlagError> {
    let mut out: Vec<Resource> = Vec::new();
    for entry in text.split(';').filter(|e| !e.trim().is_empty()) {
        let parts: Vec<&str> = entry.split(':').collect();
        let [name_role, value] = parts[..] else {
            return Err(FlagError::new(format!("Bad resource '{entry}': expected name:value")));
        };
        let (name, role) = split_role(name_role.trim())?;
        let parsed = parse_value(value)?;
        if matches!(parsed, Parsed::Text(_)) {
            return Err(FlagError::new(format!("Bad type for resource {name} value {} type TEXT", value.trim())));
        }
        if let Some(other) = out.iter().find(|r| r.name == name && r.r#type != parsed.kind() as i32) {
            return Err(FlagError::new(format!("Resource {} has two types", other.name)));
        }
        let mut resource = Resource { name, r#type: parsed.kind() as i32, ..Default::default() };
        match parsed {
            Parsed::Scalar(v) => resource.scalar = Some(value::Scalar { value: v }),
            Parsed::Ranges(r) => resource.ranges = Some(to_ranges(&r)),
            Parsed::Set(items) => resource.set = Some(value::Set { item: items }),
            Parsed::Text(_) => {}
        }
        if let Some(role) = role {
            let reservation = ReservationInfo {
                r#type: Some(crate::mesos::v1::resource::reservation_info::Type::Static as i32),
                role: Some(role),
                ..Default::default()
            };
            resource.reservations.push(reservation);
        }
        out.push(resource);
    }
    Ok(out)
}

/// `cpus(ops)` into (`cpus`, `Some("ops")`); `cpus` or `cpus(*)` into (`cpus`, `None`).
fn split_role(name_role: &str) -> Result<(String, Option<String>), FlagError> {
    let Some((name, rest)) = name_role.split_once('(') else {
        return non_empty(name_role).map(|n| (n, None));
    };
    let role = rest.strip_suffix(')').ok_or_else(|| FlagError::new(format!("Bad resource name '{name_role}'")))?.trim();
    let name = non_empty(name.trim())?;
    if role.is_empty() {
        return Err(FlagError::new(format!("Empty role in '{name_role}'")));
    }
    Ok((name, (role != "*").then(|| role.to_owned())))
}

fn non_empty(name: &str) -> Result<String, FlagError> {
    if name.is_empty() {
        Err(FlagError::new("Empty resource name"))
    } else {
        Ok(name.to_owned())
    }
}

/// Parses `--attributes` (`;` or newline separated `name:value`, split on the first `:`) into
/// attributes of type SCALAR, RANGES or TEXT; a SET value or an empty name or value is an error.
///
/// ```
/// use offerpack::agent::flags::parse_attributes;
/// let a = parse_attributes("zone:01;rack:r1").unwrap();
/// assert_eq!(a[0].scalar.as_ref().unwrap().value, 1.0);
/// assert_eq!(a[1].text.as_ref().unwrap().value, "r1");
/// ```
pub fn parse_attributes(text: &str) -> Result<Vec<Attribute>, FlagError> {
    let mut out = Vec::new();
    for entry in text.split([';', '\n']).filter(|e| !e.trim().is_empty()) {
        let (name, value) =
            entry.split_once(':').ok_or_else(|| FlagError::new(format!("Invalid attribute '{entry}': no ':'")))?;
        let name = name.trim();
        if name.is_empty() || value.trim().is_empty() {
            return Err(FlagError::new(format!("Invalid attribute '{entry}': empty name or value")));
        }
        let parsed = parse_value(value)?;
        let mut attribute = Attribute { name: name.to_owned(), r#type: parsed.kind() as i32, ..Default::default() };
        match parsed {
            Parsed::Scalar(v) => attribute.scalar = Some(value::Scalar { value: v }),
            Parsed::Ranges(r) => attribute.ranges = Some(to_ranges(&r)),
            Parsed::Text(t) => attribute.text = Some(value::Text { value: t }),
            Parsed::Set(_) => return Err(FlagError::new(format!("Bad type for attribute {name}: SET"))),
        }
        out.push(attribute);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scalar(r: &Resource) -> f64 {
        r.scalar.as_ref().map_or(f64::NAN, |s| s.value)
    }

    #[test]
    fn resources_parse_scalars_ranges_sets_and_roles() {
        let r = parse_resources(
            " cpus : 4 ;mem:8192; ports:[31000-31010, 31005-31020,32000-32000];disks:{a, b};cpus(ops):2",
        )
        .unwrap();
        assert_eq!(r.len(), 5);
        assert_eq!((r[0].name.as_str(), scalar(&r[0])), ("cpus", 4.0));
        assert_eq!(scalar(&r[1]), 8192.0);
        let ranges: Vec<_> = r[2].ranges.as_ref().unwrap().range.iter().map(|x| (x.begin, x.end)).collect();
        assert_eq!(ranges, vec![(31000, 31020), (32000, 32000)]);
        assert_eq!(r[3].set.as_ref().unwrap().item, vec!["a".to_owned(), "b".to_owned()]);
        assert!(r[0].reservations.is_empty());
        assert_eq!(r[4].reservations[0].role.as_deref(), Some("ops"));
        assert_eq!(
            r[4].reservations[0].r#type,
            Some(crate::mesos::v1::resource::reservation_info::Type::Static as i32)
        );
    }

    #[test]
    fn resources_reject_text_mixed_types_and_bad_syntax() {
        assert!(parse_resources("cpus:foo").unwrap_err().to_string().contains("Bad type for resource cpus"));
        assert!(parse_resources("cpus:-1").is_err());
        assert!(parse_resources("cpus:2;cpus:[1-2]").unwrap_err().to_string().contains("two types"));
        assert!(parse_resources("cpus").is_err());
        assert!(parse_resources("a:b:c").is_err());
        assert!(parse_resources("ports:[5-1]").is_err());
        assert!(parse_resources("ports:1[2]").is_err());
        assert!(parse_resources("(r):1").is_err());
    }

    #[test]
    fn attributes_follow_the_mesos_value_quirks() {
        let a = parse_attributes("zone:01\nfloor:-1;dc:us east;host:a:b;ports:[1-5];rack:2").unwrap();
        let kinds: Vec<i32> = a.iter().map(|x| x.r#type).collect();
        let (s, t, r) = (value::Type::Scalar as i32, value::Type::Text as i32, value::Type::Ranges as i32);
        assert_eq!(kinds, vec![s, t, t, t, r, s]);
        assert_eq!(a[0].scalar.as_ref().unwrap().value, 1.0);
        assert_eq!(a[1].text.as_ref().unwrap().value, "-1");
        assert_eq!(a[2].text.as_ref().unwrap().value, "useast");
        assert_eq!((a[3].name.as_str(), a[3].text.as_ref().unwrap().value.as_str()), ("host", "a:b"));
        assert_eq!(a[5].scalar.as_ref().unwrap().value, 2.0);
    }

    #[test]
    fn attributes_reject_sets_and_empty_parts() {
        assert!(parse_attributes("disks:{a,b}").unwrap_err().to_string().contains("SET"));
        assert!(parse_attributes("zone").is_err());
        assert!(parse_attributes(":a").is_err());
        assert!(parse_attributes("zone: ").is_err());
        assert!(parse_attributes("").unwrap().is_empty());
    }

    #[test]
    fn values_scalar_only_for_finite_non_negative_numbers() {
        assert_eq!(parse_value("1e3").unwrap(), Parsed::Scalar(1000.0));
        assert_eq!(parse_value("0.5").unwrap(), Parsed::Scalar(0.5));
        assert_eq!(parse_value("inf").unwrap(), Parsed::Text("inf".into()));
        assert_eq!(parse_value("nan").unwrap(), Parsed::Text("nan".into()));
        assert_eq!(parse_value("1e-320").unwrap(), Parsed::Text("1e-320".into()));
    }
}
