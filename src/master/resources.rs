//! Resource arithmetic of the simulated master: scalars in thousandths (Mesos keeps three
//! decimals) and ranges (ports), with containment, addition and subtraction, and the
//! conversions to and from `v1::Resource`.

use std::collections::BTreeMap;

use crate::mesos::v1;

/// Scalars and ranges by resource name. Sets and other kinds are not simulated.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Resources {
    /// Amount in thousandths, never zero.
    scalars: BTreeMap<String, u64>,
    /// Sorted, merged, non-empty inclusive ranges.
    ranges: BTreeMap<String, Vec<(u64, u64)>>,
}

/// The largest scalar accepted, to keep thousandths far from overflow.
const MAX_SCALAR: f64 = 1e12;

impl Resources {
    /// Adds a scalar (`amount` ≥ 0, rounded to thousandths).
    pub(crate) fn add_scalar(&mut self, name: &str, amount: f64) {
        let milli = (amount.clamp(0.0, MAX_SCALAR) * 1000.0).round() as u64;
        if milli > 0 {
            *self.scalars.entry(name.to_owned()).or_default() += milli;
        }
    }

    /// Adds inclusive ranges.
    pub(crate) fn add_ranges(&mut self, name: &str, ranges: &[(u64, u64)]) {
        let entry = self.ranges.entry(name.to_owned()).or_default();
        entry.extend(ranges.iter().copied().filter(|(b, e)| b <= e));
        *entry = merge(std::mem::take(entry));
        if entry.is_empty() {
            self.ranges.remove(name);
        }
    }

    /// Sums `Resource` protos: scalars and ranges; sets, text and zero amounts are ignored.
    /// A non-finite or negative scalar or a range with `begin > end` is an error naming the
    /// resource.
    pub(crate) fn from_protos(protos: &[v1::Resource]) -> Result<Resources, String> {
        let mut out = Resources::default();
        for r in protos {
            match v1::value::Type::try_from(r.r#type) {
                Ok(v1::value::Type::Scalar) => {
                    let v = r.scalar.as_ref().map_or(0.0, |s| s.value);
                    if !(0.0..=MAX_SCALAR).contains(&v) {
                        return Err(format!("Invalid scalar resource {} of {v}", r.name));
                    }
                    out.add_scalar(&r.name, v);
                }
                Ok(v1::value::Type::Ranges) => {
                    let ranges: Vec<(u64, u64)> =
                        r.ranges.iter().flat_map(|rs| rs.range.iter().map(|x| (x.begin, x.end))).collect();
                    if let Some((b, e)) = ranges.iter().find(|(b, e)| b > e) {
                        return Err(format!("Invalid range [{b}-{e}] of resource {}", r.name));
                    }
                    out.add_ranges(&r.name, &ranges);
                }
                _ => {}
            }
        }
        Ok(out)
    }

    /// As `Resource` protos with role `*`, and `allocation_info.role` when `allocation_role`
    /// is set (MULTI_ROLE frameworks).
    pub(crate) fn to_protos(&self, allocation_role: Option<&str>) -> Vec<v1::Resource> {
        self.to_protos_reserved(None, allocation_role)
    }

    /// As [`Resources::to_protos`], statically reserved for `reserved` when set (`role` and
    /// one STATIC `reservations` entry), else role `*`.
    pub(crate) fn to_protos_reserved(
        &self,
        reserved: Option<&str>,
        allocation_role: Option<&str>,
    ) -> Vec<v1::Resource> {
        let allocation_info = allocation_role.map(|role| v1::resource::AllocationInfo { role: Some(role.to_owned()) });
        let reservations: Vec<v1::resource::ReservationInfo> = reserved
            .map(|role| v1::resource::ReservationInfo {
                r#type: Some(v1::resource::reservation_info::Type::Static as i32),
                role: Some(role.to_owned()),
                ..Default::default()
            })
            .into_iter()
            .collect();
        // The deprecated `role` is still what non-refinement frameworks read; Mesos sets it.
        #[allow(deprecated)]
        let base = |name: &str, kind: v1::value::Type| v1::Resource {
            name: name.to_owned(),
            r#type: kind as i32,
            role: Some(reserved.unwrap_or("*").to_owned()),
            reservations: reservations.clone(),
            allocation_info: allocation_info.clone(),
            ..Default::default()
        };
        let mut out = Vec::new();
        for (name, milli) in &self.scalars {
            let mut r = base(name, v1::value::Type::Scalar);
            r.scalar = Some(v1::value::Scalar { value: *milli as f64 / 1000.0 });
            out.push(r);
        }
        for (name, ranges) in &self.ranges {
            let mut r = base(name, v1::value::Type::Ranges);
            let range = ranges.iter().map(|&(begin, end)| v1::value::Range { begin, end }).collect();
            r.ranges = Some(v1::value::Ranges { range });
            out.push(r);
        }
        out
    }

    /// Whether nothing is left.
    pub(crate) fn is_empty(&self) -> bool {
        self.scalars.is_empty() && self.ranges.is_empty()
    }

    /// A scalar in its unit (0 when absent).
    pub(crate) fn scalar(&self, name: &str) -> f64 {
        self.scalars.get(name).map_or(0.0, |m| *m as f64 / 1000.0)
    }

    /// Whether `other` fits in `self`.
    pub(crate) fn contains(&self, other: &Resources) -> bool {
        other.scalars.iter().all(|(name, amount)| self.scalars.get(name).is_some_and(|have| have >= amount))
            && other.ranges.iter().all(|(name, ranges)| {
                let have = self.ranges.get(name).map_or(&[][..], Vec::as_slice);
                ranges.iter().all(|&(b, e)| have.iter().any(|&(hb, he)| hb <= b && e <= he))
            })
    }

    /// Adds `other` to `self`.
    pub(crate) fn add(&mut self, other: &Resources) {
        for (name, amount) in &other.scalars {
            *self.scalars.entry(name.clone()).or_default() += amount;
        }
        for (name, ranges) in &other.ranges {
            self.add_ranges(name, ranges);
        }
    }

    /// Removes `other` from `self`, saturating (callers check [`Resources::contains`] first).
    pub(crate) fn subtract(&mut self, other: &Resources) {
        for (name, amount) in &other.scalars {
            if let Some(have) = self.scalars.get_mut(name) {
                *have = have.saturating_sub(*amount);
                if *have == 0 {
                    self.scalars.remove(name);
                }
            }
        }
        for (name, ranges) in &other.ranges {
            if let Some(have) = self.ranges.get_mut(name) {
                for &(b, e) in ranges {
                    *have = cut(have, b, e);
                }
                if have.is_empty() {
                    self.ranges.remove(name);
                }
            }
        }
    }
}

/// Sorts and merges overlapping or adjacent ranges.
fn merge(mut ranges: Vec<(u64, u64)>) -> Vec<(u64, u64)> {
    ranges.sort_unstable();
    let mut out: Vec<(u64, u64)> = Vec::with_capacity(ranges.len());
    for (b, e) in ranges {
        match out.last_mut() {
            Some(last) if b <= last.1.saturating_add(1) => last.1 = last.1.max(e),
            _ => out.push((b, e)),
        }
    }
    out
}

/// `ranges` without `b..=e`.
fn cut(ranges: &[(u64, u64)], b: u64, e: u64) -> Vec<(u64, u64)> {
    let mut out = Vec::with_capacity(ranges.len() + 1);
    for &(hb, he) in ranges {
        if he < b || hb > e {
            out.push((hb, he));
            continue;
        }
        if hb < b {
            out.push((hb, b - 1));
        }
        if he > e {
            out.push((e + 1, he));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(cpus: f64, ports: &[(u64, u64)]) -> Resources {
        let mut r = Resources::default();
        r.add_scalar("cpus", cpus);
        r.add_ranges("ports", ports);
        r
    }

    #[test]
    fn resources_contain_add_and_subtract() {
        let mut agent = res(4.0, &[(31000, 32000)]);
        let task = res(0.5, &[(31005, 31006)]);
        assert!(agent.contains(&task));
        agent.subtract(&task);
        assert_eq!(agent, res(3.5, &[(31000, 31004), (31007, 32000)]));
        assert!(!agent.contains(&task));
        agent.add(&task);
        assert_eq!(agent, res(4.0, &[(31000, 32000)]));
        assert!(!agent.contains(&res(4.001, &[])));
    }

    #[test]
    fn resources_round_trip_through_protos() {
        let r = res(1.25, &[(1, 2), (4, 4)]);
        let protos = r.to_protos(Some("web"));
        assert_eq!(protos[0].allocation_info.as_ref().unwrap().role.as_deref(), Some("web"));
        assert_eq!(Resources::from_protos(&protos).unwrap(), r);
        let mut bad = protos.clone();
        bad[0].scalar = Some(v1::value::Scalar { value: f64::NAN });
        assert!(Resources::from_protos(&bad).is_err());
    }
}
