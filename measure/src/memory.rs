//! Memory of running processes, from /proc: the resident set of a process (and its peak), and
//! the proportional set size of a process group, which counts pages that forked workers share
//! once rather than once per worker.

use serde::Serialize;

/// One reading of a server and its workers.
#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct Reading {
    /// Proportional set size of every process in the group, summed (MiB).
    pub pss_mib: f64,
    /// Resident set size of every process in the group, summed (MiB).
    pub rss_mib: f64,
    /// The largest peak resident set (VmHWM) of one process in the group (MiB).
    pub peak_rss_mib: f64,
    pub processes: usize,
}

/// Reads every process whose process group is one of `groups`.
pub fn read_groups(groups: &[u32]) -> Reading {
    let mut reading = Reading::default();
    let Ok(entries) = std::fs::read_dir("/proc") else {
        return reading;
    };
    for entry in entries.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        let Some(group) = process_group(pid) else {
            continue;
        };
        if !groups.contains(&group) {
            continue;
        }
        let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
        let rollup =
            std::fs::read_to_string(format!("/proc/{pid}/smaps_rollup")).unwrap_or_default();
        reading.rss_mib += field_kib(&status, "VmRSS:") / 1024.0;
        reading.peak_rss_mib = reading
            .peak_rss_mib
            .max(field_kib(&status, "VmHWM:") / 1024.0);
        reading.pss_mib += field_kib(&rollup, "Pss:") / 1024.0;
        reading.processes += 1;
    }
    reading
}

/// The process group of `pid` (the fifth field of /proc/PID/stat, after the command).
fn process_group(pid: u32) -> Option<u32> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The command is in parentheses and may hold spaces: count from the last `)`.
    let rest = &stat[stat.rfind(')')? + 1..];
    rest.split_whitespace().nth(2)?.parse().ok()
}

/// A `Name:   123 kB` field, in KiB.
fn field_kib(text: &str, name: &str) -> f64 {
    text.lines()
        .find_map(|line| line.strip_prefix(name))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|v| v.parse::<f64>().ok())
        .unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_process_has_memory_and_a_group() {
        // SAFETY: getpgrp has no preconditions.
        let group = unsafe { libc::getpgrp() } as u32;
        let reading = read_groups(&[group]);
        assert!(reading.processes >= 1);
        assert!(reading.rss_mib > 1.0 && reading.peak_rss_mib >= reading.rss_mib / 64.0);
        assert!(reading.pss_mib > 0.0);
    }

    #[test]
    fn fields_parse_from_proc_text() {
        let status = "Name:\tpython\nVmHWM:\t  906000 kB\nVmRSS:\t  800 kB\n";
        assert_eq!(field_kib(status, "VmHWM:"), 906000.0);
        assert_eq!(field_kib(status, "VmSwap:"), 0.0);
    }
}
