//! CPU sets: which CPUs this process may use, `--cpus` lists (`0`, `0-1`, `0,2`), and
//! confining a thread to a set (`sched_setaffinity`).
//!
//! `--cpus 0` squeezes a whole run onto one CPU, the post's one-core story: threads and
//! processes then take turns, and the scheduler sampler shows every turn as time spent
//! waiting for a CPU. Confinement is per thread on Linux, and threads inherit it from the
//! thread that creates them, so each worker confines itself as it starts.

/// The CPUs this process may run on, in ascending order (all of them where the OS cannot
/// say).
pub fn allowed() -> Vec<usize> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: a zeroed cpu_set_t is a valid empty set; the kernel fills it.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        // SAFETY: pid 0 is the calling thread; the size is that of the set passed.
        let rc = unsafe { libc::sched_getaffinity(0, std::mem::size_of_val(&set), &mut set) };
        if rc == 0 {
            // SAFETY: CPU_ISSET reads the set we own, for indices within its size.
            return (0..libc::CPU_SETSIZE as usize)
                .filter(|&cpu| unsafe { libc::CPU_ISSET(cpu, &set) })
                .collect();
        }
    }
    (0..crate::model::clock::available_cores()).collect()
}

/// Parses a CPU list: numbers and ranges, comma-separated (`0`, `0-1`, `0,2`, `0-2,5`),
/// each CPU one of `allowed`. The error says what was wrong and which CPUs there are.
pub fn parse_list(text: &str, allowed: &[usize]) -> Result<Vec<usize>, String> {
    let there = format!(
        "this machine lets poolscope use CPUs {}",
        format_list(allowed)
    );
    let mut cpus = Vec::new();
    for part in text.split(',').map(str::trim).filter(|p| !p.is_empty()) {
        let number = |s: &str| {
            s.trim()
                .parse::<usize>()
                .map_err(|_| format!("'{}' is not a CPU number; {there}", s.trim()))
        };
        let (first, last) = match part.split_once('-') {
            Some((a, b)) => (number(a)?, number(b)?),
            None => (number(part)?, number(part)?),
        };
        if first > last {
            return Err(format!("the range {part} is empty; {there}"));
        }
        for cpu in first..=last {
            if !allowed.contains(&cpu) {
                return Err(format!(
                    "CPU {cpu} does not exist or is not allowed; {there}"
                ));
            }
            // As a repeated executor is refused, so is a repeated CPU: `0-1,0` is a
            // mistake (a typo for `0-1,2`?), not a request.
            if cpus.contains(&cpu) {
                return Err(format!(
                    "CPU {cpu} is listed twice; name each CPU once (e.g. 0-1 or 0,2)"
                ));
            }
            cpus.push(cpu);
        }
    }
    if cpus.is_empty() {
        return Err(format!("no CPU given; {there}"));
    }
    cpus.sort_unstable();
    Ok(cpus)
}

/// `0-3,6`: a CPU list in the kernel's own compact form.
pub fn format_list(cpus: &[usize]) -> String {
    let mut parts = Vec::new();
    let mut i = 0;
    while i < cpus.len() {
        let mut j = i;
        while j + 1 < cpus.len() && cpus[j + 1] == cpus[j] + 1 {
            j += 1;
        }
        parts.push(if i == j {
            cpus[i].to_string()
        } else {
            format!("{}-{}", cpus[i], cpus[j])
        });
        i = j + 1;
    }
    parts.join(",")
}

/// Confines the calling thread (and threads it creates later) to `cpus`. Returns the OS
/// error text if it refused.
pub fn confine_this_thread(cpus: &[usize]) -> Result<(), String> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: a zeroed cpu_set_t is a valid empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        for &cpu in cpus.iter().filter(|&&c| c < libc::CPU_SETSIZE as usize) {
            // SAFETY: cpu is within the set's size.
            unsafe { libc::CPU_SET(cpu, &mut set) };
        }
        // SAFETY: pid 0 is the calling thread; the set is ours and of the size given.
        let rc = unsafe { libc::sched_setaffinity(0, std::mem::size_of_val(&set), &set) };
        if rc != 0 {
            return Err(std::io::Error::last_os_error().to_string());
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = cpus;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_ranges_and_errors() {
        let allowed = [0, 1, 2, 3];
        assert_eq!(parse_list("0", &allowed), Ok(vec![0]));
        assert_eq!(parse_list("0-1", &allowed), Ok(vec![0, 1]));
        assert_eq!(parse_list("2,0", &allowed), Ok(vec![0, 2]));
        assert!(
            parse_list("0-2,1", &allowed)
                .unwrap_err()
                .contains("CPU 1 is listed twice")
        );
        assert!(parse_list("0,0", &allowed).unwrap_err().contains("twice"));
        let e = parse_list("7", &allowed).unwrap_err();
        assert!(
            e.contains("CPU 7 does not exist") && e.contains("CPUs 0-3"),
            "{e}"
        );
        assert!(parse_list("x", &allowed).unwrap_err().contains("'x'"));
        assert!(parse_list("3-1", &allowed).unwrap_err().contains("empty"));
        assert!(parse_list("", &allowed).unwrap_err().contains("no CPU"));
        assert_eq!(format_list(&[0, 1, 2, 3, 6, 8, 9]), "0-3,6,8-9");
    }

    #[test]
    fn this_process_may_use_some_cpu() {
        assert!(!allowed().is_empty());
    }
}
