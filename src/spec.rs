//! Pending tasks: what a task asks for and the plugins that judge where it may go.
//!
//! A [`TaskSpec`] holds plugin objects (its hard and soft constraints), so it sits above
//! [`plugins`](crate::plugins); the plain values it is made of ([`PortRequest`], ids, roles)
//! live in [`model`](crate::model), which imports nothing from the plugins.

use std::sync::Arc;

use crate::model::{GroupId, ModelError, PortRequest, Role, TaskId};
use crate::plugins::{HardConstraint, SoftConstraint};
use crate::resources::Quantity;

/// A soft constraint with its weight in the combined score.
#[derive(Clone, Debug)]
pub struct SoftTerm {
    /// Relative weight, finite and positive (validated by [`TaskBuilder::build`]).
    pub weight: f64,
    /// The constraint.
    pub constraint: Arc<dyn SoftConstraint>,
}

/// A task waiting to be placed.
///
/// Build one with [`TaskSpec::builder`]. Tasks that share their constraint `Arc`s and ask for the
/// same resources are grouped into one equivalence class by the engine, which is much faster.
#[derive(Clone, Debug)]
pub struct TaskSpec {
    /// Task id, unique among pending and running tasks.
    pub id: TaskId,
    /// The group (job/app) the task belongs to.
    pub group: GroupId,
    /// Scalar resources asked for, sorted by name, names unique, amounts non-zero.
    pub resources: Vec<(Arc<str>, Quantity)>,
    /// Ports asked for.
    pub ports: PortRequest,
    /// Roles whose resources the task accepts, in order of preference; `None` accepts every role
    /// (reserved roles are used before unreserved resources).
    pub roles: Option<Vec<Role>>,
    /// Hard constraints: an agent failing any is not a candidate.
    pub hard: Vec<Arc<dyn HardConstraint>>,
    /// Soft constraints: preferences combined with the fitness score.
    pub soft: Vec<SoftTerm>,
    /// Higher priority tasks are placed first; ties keep submission order.
    pub priority: i32,
    /// The custom executor the task runs on, whose resources are charged once per agent.
    pub executor: Option<ExecutorDemand>,
    /// The gang the task belongs to: tasks naming the same gang are placed all together in one
    /// pass or not at all (see [`Reason::GangIncomplete`](crate::Reason::GangIncomplete)).
    pub gang: Option<Arc<str>>,
    /// The declared size of the task's gang: when set, the gang is placed only once all its
    /// members are pending in one pass (see [`TaskBuilder::gang_size`]); `None` makes the gang
    /// the members a pass is given.
    pub gang_size: Option<u32>,
}

/// A custom executor a task runs on: its id and what the executor process itself holds.
///
/// The engine charges `resources` once per agent: the first task of an executor placed on an
/// agent pays for the executor too, later tasks for the same executor there (placed in the same
/// pass, or running) pay only their own asks. A task whose executor is not on an agent fits it
/// only when the agent has room for both. Tasks with an executor are placed one by one and
/// their agents asked one by one (no candidate index, no filling), and a pass does not skip
/// them as parked.
///
/// ```
/// use offerpack::TaskSpec;
/// let task = TaskSpec::builder("t1", "web").scalar("cpus", 0.5)
///     .executor("web-executor", &[("cpus", 0.1), ("mem", 32.0)])
///     .build().unwrap();
/// assert_eq!(&*task.executor.unwrap().id, "web-executor");
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct ExecutorDemand {
    /// The executor id (`ExecutorInfo.executor_id`); tasks naming the same id share it.
    pub id: Arc<str>,
    /// Scalar resources the executor holds, sorted by name, names unique, amounts non-zero.
    pub resources: Vec<(Arc<str>, Quantity)>,
}

impl TaskSpec {
    /// Starts building a task.
    ///
    /// ```
    /// use offerpack::TaskSpec;
    /// let task = TaskSpec::builder("t1", "web").scalar("cpus", 0.5).scalar("mem", 256.0).ports(1)
    ///     .build().unwrap();
    /// assert_eq!(task.ask("cpus").to_string(), "0.5");
    /// ```
    pub fn builder(id: impl Into<TaskId>, group: impl Into<GroupId>) -> TaskBuilder {
        TaskBuilder {
            spec: TaskSpec {
                id: id.into(),
                group: group.into(),
                resources: Vec::new(),
                ports: PortRequest::default(),
                roles: None,
                hard: Vec::new(),
                soft: Vec::new(),
                priority: 0,
                executor: None,
                gang: None,
                gang_size: None,
            },
            error: None,
        }
    }

    /// The amount of one scalar resource asked for (zero when not asked).
    pub fn ask(&self, name: &str) -> Quantity {
        self.resources.binary_search_by(|(n, _)| (**n).cmp(name)).map(|i| self.resources[i].1).unwrap_or(Quantity::ZERO)
    }
}

/// Builds a validated [`TaskSpec`].
#[derive(Debug)]
pub struct TaskBuilder {
    spec: TaskSpec,
    error: Option<ModelError>,
}

impl TaskBuilder {
    fn fail(&mut self, error: ModelError) {
        self.error.get_or_insert(error);
    }

    /// Asks for a scalar resource; NaN, infinite and negative amounts fail at `build`.
    pub fn scalar(mut self, name: &str, amount: f64) -> TaskBuilder {
        match Quantity::new(amount) {
            Ok(q) => self = self.quantity(name, q),
            Err(e) => self.fail(ModelError::BadQuantity { resource: name.into(), error: e }),
        }
        self
    }

    /// Asks for a scalar resource as a [`Quantity`]; zero amounts are dropped.
    pub fn quantity(mut self, name: &str, amount: Quantity) -> TaskBuilder {
        match self.spec.resources.binary_search_by(|(n, _)| (**n).cmp(name)) {
            Ok(_) => self.fail(ModelError::DuplicateResource(name.into())),
            Err(_) if amount.is_zero() => {}
            Err(i) => self.spec.resources.insert(i, (crate::resources::shared_name(name), amount)),
        }
        self
    }

    /// Asks for `count` ports of the agent's choosing.
    pub fn ports(mut self, count: u32) -> TaskBuilder {
        self.spec.ports.count = count;
        self
    }

    /// Asks for one specific port.
    pub fn specific_port(mut self, port: u16) -> TaskBuilder {
        match self.spec.ports.specific.binary_search(&port) {
            Ok(_) => self.fail(ModelError::DuplicatePort(port)),
            Err(i) => self.spec.ports.specific.insert(i, port),
        }
        self
    }

    /// Restricts the roles whose resources the task may use, in order of preference.
    pub fn roles(mut self, roles: impl IntoIterator<Item = Role>) -> TaskBuilder {
        self.spec.roles = Some(roles.into_iter().collect());
        self
    }

    /// Adds a hard constraint.
    pub fn hard(mut self, constraint: Arc<dyn HardConstraint>) -> TaskBuilder {
        self.spec.hard.push(constraint);
        self
    }

    /// Adds a soft constraint with a weight (finite and positive).
    pub fn soft(mut self, weight: f64, constraint: Arc<dyn SoftConstraint>) -> TaskBuilder {
        if !(weight.is_finite() && weight > 0.0) {
            self.fail(ModelError::BadWeight(weight));
        }
        self.spec.soft.push(SoftTerm { weight, constraint });
        self
    }

    /// Sets the priority (higher goes first).
    pub fn priority(mut self, priority: i32) -> TaskBuilder {
        self.spec.priority = priority;
        self
    }

    /// Runs the task on the custom executor `id`, which holds `resources` (name, amount) on
    /// each agent it runs on; NaN, infinite, negative and repeated amounts fail at `build`.
    pub fn executor(mut self, id: &str, resources: &[(&str, f64)]) -> TaskBuilder {
        let mut held: Vec<(Arc<str>, Quantity)> = Vec::with_capacity(resources.len());
        for &(name, amount) in resources {
            let q = match Quantity::new(amount) {
                Ok(q) => q,
                Err(e) => {
                    self.fail(ModelError::BadQuantity { resource: name.into(), error: e });
                    continue;
                }
            };
            match held.binary_search_by(|(n, _)| (**n).cmp(name)) {
                Ok(_) => self.fail(ModelError::DuplicateResource(name.into())),
                Err(_) if q.is_zero() => {}
                Err(i) => held.insert(i, (crate::resources::shared_name(name), q)),
            }
        }
        self.spec.executor = Some(ExecutorDemand { id: id.into(), resources: held });
        self
    }

    /// Puts the task in gang `name`: every task of a gang is placed in the same pass, or none.
    ///
    /// ```
    /// use offerpack::TaskSpec;
    /// let task = TaskSpec::builder("w-0", "train").scalar("cpus", 1.0).gang("train-job").build().unwrap();
    /// assert_eq!(task.gang.as_deref(), Some("train-job"));
    /// ```
    pub fn gang(mut self, name: &str) -> TaskBuilder {
        self.spec.gang = Some(Arc::from(name));
        self
    }

    /// Declares the size of the task's gang: the gang is placed only when all `size` members
    /// are pending together, so a gang submitted in parts waits for its last member. Every
    /// member must declare the same size; a size of zero fails at `build`.
    ///
    /// ```
    /// use offerpack::TaskSpec;
    /// let task = TaskSpec::builder("w-0", "train").gang("job").gang_size(4).build().unwrap();
    /// assert_eq!(task.gang_size, Some(4));
    /// assert!(TaskSpec::builder("w-0", "train").gang("job").gang_size(0).build().is_err());
    /// // A size without a gang names the size it was given.
    /// let error = TaskSpec::builder("w-0", "train").gang_size(4).build().unwrap_err();
    /// assert!(error.to_string().starts_with("gang size 4"));
    /// ```
    pub fn gang_size(mut self, size: u32) -> TaskBuilder {
        if size == 0 {
            self.fail(ModelError::BadGangSize(size));
        }
        self.spec.gang_size = Some(size);
        self
    }

    /// The task, or the first error met while building it.
    pub fn build(self) -> Result<TaskSpec, ModelError> {
        match self.error {
            Some(e) => Err(e),
            None if self.spec.roles.as_ref().is_some_and(Vec::is_empty) => Err(ModelError::NoRoles),
            None if self.spec.gang.is_none() && self.spec.gang_size.is_some() => {
                Err(ModelError::BadGangSize(self.spec.gang_size.unwrap_or(0)))
            }
            None => Ok(self.spec),
        }
    }
}

/// Members of one gang that cannot make a gang: they disagree on its declared size, or
/// outnumber it (see [`TaskBuilder::gang_size`]).
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum GangSizeError {
    /// Two members declare different sizes (`None`: a member declares none).
    Mismatch {
        /// The gang.
        gang: Arc<str>,
        /// The size declared first.
        first: Option<u32>,
        /// The size of the member that disagrees.
        then: Option<u32>,
    },
    /// More members than the declared size.
    Overfull {
        /// The gang.
        gang: Arc<str>,
        /// The declared size.
        size: u32,
    },
}

impl std::fmt::Display for GangSizeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let size = |s: &Option<u32>| s.map_or_else(|| "no size".to_owned(), |s| format!("size {s}"));
        match self {
            Self::Mismatch { gang, first, then } => {
                write!(f, "gang {gang}: a member declares {} where another declares {}", size(then), size(first))
            }
            Self::Overfull { gang, size } => write!(f, "gang {gang} has more members than its declared size {size}"),
        }
    }
}

impl std::error::Error for GangSizeError {}

impl GangSizeError {
    /// Checks that `member` may join a gang whose members so far declared `size` and number
    /// `members` (`None` for a gang with no member yet).
    pub fn check_join(member: &TaskSpec, so_far: Option<(Option<u32>, usize)>) -> Result<(), GangSizeError> {
        let Some(gang) = &member.gang else { return Ok(()) };
        let Some((size, members)) = so_far else { return Ok(()) };
        if size != member.gang_size {
            return Err(GangSizeError::Mismatch { gang: gang.clone(), first: size, then: member.gang_size });
        }
        match size {
            Some(size) if members >= size as usize => Err(GangSizeError::Overfull { gang: gang.clone(), size }),
            _ => Ok(()),
        }
    }

    /// Checks every gang of `tasks`: members agree on the size and are not more than it.
    ///
    /// ```
    /// use offerpack::{GangSizeError, TaskSpec};
    /// let member = |id: &str, size| TaskSpec::builder(id, "g").gang("job").gang_size(size).build().unwrap();
    /// assert!(GangSizeError::check_all(&[member("a", 2), member("b", 2)]).is_ok());
    /// assert!(GangSizeError::check_all(&[member("a", 2), member("b", 3)]).is_err());
    /// assert!(GangSizeError::check_all(&[member("a", 1), member("b", 1)]).is_err());
    /// ```
    pub fn check_all(tasks: &[TaskSpec]) -> Result<(), GangSizeError> {
        let mut seen: std::collections::HashMap<&str, (Option<u32>, usize)> = std::collections::HashMap::new();
        for task in tasks {
            let Some(gang) = task.gang.as_deref() else { continue };
            GangSizeError::check_join(task, seen.get(gang).copied())?;
            seen.entry(gang).or_insert((task.gang_size, 0)).1 += 1;
        }
        Ok(())
    }
}
