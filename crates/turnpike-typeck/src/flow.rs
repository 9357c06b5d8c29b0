//! Flow state for definite assignment and reachability.

/// Which locals hold a value, and whether the point can be reached.
#[derive(Clone, Debug)]
pub(crate) struct Flow {
    pub(crate) assigned: Vec<bool>,
    pub(crate) reachable: bool,
}

impl Flow {
    /// The state where two paths join: a local is assigned if it is on every reachable path.
    pub(crate) fn merge(&self, other: &Flow) -> Flow {
        match (self.reachable, other.reachable) {
            (false, false) => Flow {
                assigned: self.assigned.clone(),
                reachable: false,
            },
            (true, false) => self.clone(),
            (false, true) => other.clone(),
            (true, true) => {
                let n = self.assigned.len().max(other.assigned.len());
                let get = |v: &Vec<bool>, i: usize| v.get(i).copied().unwrap_or(true);
                Flow {
                    assigned: (0..n)
                        .map(|i| get(&self.assigned, i) && get(&other.assigned, i))
                        .collect(),
                    reachable: true,
                }
            }
        }
    }
}
