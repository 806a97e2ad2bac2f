//! A cost model, labelled as one: how many nodes each side needs for a target request rate,
//! from the measured single-instance throughput and the measured memory per instance.

use serde::Serialize;

/// The node and the load the model is asked about.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct CostInputs {
    pub target_rps: f64,
    pub node_cores: u32,
    pub node_memory_gib: f64,
    /// The share of a node's rate kept free for bursts and failover: a node is planned at
    /// `1 - headroom` of what its instances answer.
    pub headroom: f64,
}

impl Default for CostInputs {
    fn default() -> Self {
        CostInputs {
            target_rps: 500.0,
            node_cores: 4,
            node_memory_gib: 16.0,
            headroom: 0.2,
        }
    }
}

/// What one side measured that the model uses.
#[derive(Debug, Clone, Copy)]
pub struct SideFigures {
    /// Requests per second one instance answers, one request at a time.
    pub rps_per_instance: f64,
    /// Memory of the first instance (with its host or server process), MiB.
    pub first_instance_mib: f64,
    /// Memory each further instance adds, MiB.
    pub extra_instance_mib: f64,
    /// Cold start, for scale-to-zero wake-up.
    pub cold_start_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct SideCost {
    /// Instances that fit a node's memory.
    pub instances_by_memory: u64,
    /// Instances a node's cores keep busy (one request per core at a time).
    pub instances_by_cores: u64,
    pub instances_per_node: u64,
    /// What a node is planned to answer: its instances' measured rate less the headroom.
    pub node_rps: f64,
    pub nodes: u64,
    /// What limits a node: `memory` or `cores`.
    pub bound_by: &'static str,
    /// A request to a scaled-to-zero service waits this long.
    pub wake_up_ms: f64,
}

#[derive(Debug, Clone, Serialize)]
pub struct CostModel {
    pub label: &'static str,
    pub inputs: CostInputs,
    pub assumptions: Vec<&'static str>,
    pub original: SideCost,
    pub migrated: SideCost,
    /// 1 - migrated nodes / original nodes.
    pub node_cut: f64,
}

pub fn side_cost(inputs: &CostInputs, side: &SideFigures) -> SideCost {
    let memory_mib = inputs.node_memory_gib * 1024.0;
    let by_memory = if side.first_instance_mib > memory_mib {
        0
    } else {
        1 + ((memory_mib - side.first_instance_mib) / side.extra_instance_mib.max(0.1)).floor()
            as u64
    };
    let by_cores = u64::from(inputs.node_cores.max(1));
    let per_node = by_memory.min(by_cores);
    let node_rps = per_node as f64 * side.rps_per_instance * (1.0 - inputs.headroom);
    let nodes = nodes_for(inputs.target_rps, node_rps);
    SideCost {
        instances_by_memory: by_memory,
        instances_by_cores: by_cores,
        instances_per_node: per_node,
        node_rps,
        nodes,
        bound_by: if by_memory < by_cores {
            "memory"
        } else {
            "cores"
        },
        wake_up_ms: side.cold_start_ms,
    }
}

/// Nodes of `node_rps` each (headroom taken off) that a rate needs; 0 when a node answers nothing.
pub fn nodes_for(target_rps: f64, node_rps: f64) -> u64 {
    match node_rps > 0.0 {
        true => (target_rps / node_rps).ceil().max(1.0) as u64,
        false => 0,
    }
}

pub fn model(inputs: CostInputs, original: &SideFigures, migrated: &SideFigures) -> CostModel {
    let original = side_cost(&inputs, original);
    let migrated = side_cost(&inputs, migrated);
    let node_cut = if original.nodes > 0 && migrated.nodes > 0 {
        1.0 - migrated.nodes as f64 / original.nodes as f64
    } else {
        0.0
    };
    CostModel {
        label: "a model, not a measurement: nodes = target rate / (instances per node x one \
                instance's measured rate x (1 - headroom))",
        inputs,
        assumptions: vec![
            "one instance answers one request at a time and keeps one core busy while it does",
            "an instance's rate on a node equals its rate measured here at concurrency 1",
            "a node holds the instances its memory fits, at most one per core",
            "a node is planned at (1 - headroom) of its rate, the rest kept for bursts",
            "scale-to-zero wake-up is the measured cold start (process start to first answer)",
        ],
        original,
        migrated,
        node_cut,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn side(rps: f64, first: f64, extra: f64) -> SideFigures {
        SideFigures {
            rps_per_instance: rps,
            first_instance_mib: first,
            extra_instance_mib: extra,
            cold_start_ms: 1.0,
        }
    }

    #[test]
    fn memory_bound_nodes_need_more_of_them() {
        let inputs = CostInputs {
            target_rps: 100.0,
            node_cores: 8,
            node_memory_gib: 2.0,
            headroom: 0.0,
        };
        // 900 MiB workers: two fit in 2 GiB, so 8 cores do not help.
        let heavy = side_cost(&inputs, &side(10.0, 900.0, 900.0));
        assert_eq!((heavy.instances_per_node, heavy.bound_by), (2, "memory"));
        assert_eq!(heavy.nodes, 5);
        let light = side_cost(&inputs, &side(10.0, 100.0, 5.0));
        assert_eq!((light.instances_per_node, light.bound_by), (8, "cores"));
        assert_eq!(light.nodes, 2);
        let cost = model(inputs, &side(10.0, 900.0, 900.0), &side(10.0, 100.0, 5.0));
        assert!((cost.node_cut - 0.6).abs() < 1e-9);
    }

    #[test]
    fn headroom_plans_each_node_below_its_rate() {
        let inputs = CostInputs {
            target_rps: 100.0,
            node_cores: 4,
            node_memory_gib: 16.0,
            headroom: 0.5,
        };
        // 4 instances of 10 req/s, planned at half: 20 req/s per node, 5 nodes for 100.
        let cost = side_cost(&inputs, &side(10.0, 100.0, 5.0));
        assert_eq!((cost.node_rps, cost.nodes), (20.0, 5));
        assert_eq!(nodes_for(101.0, 20.0), 6);
        assert_eq!(nodes_for(1.0, 0.0), 0);
    }

    #[test]
    fn an_instance_larger_than_the_node_fits_none() {
        let inputs = CostInputs {
            target_rps: 1.0,
            node_cores: 2,
            node_memory_gib: 0.5,
            headroom: 0.0,
        };
        let cost = side_cost(&inputs, &side(10.0, 900.0, 900.0));
        assert_eq!((cost.instances_per_node, cost.nodes), (0, 0));
    }
}
