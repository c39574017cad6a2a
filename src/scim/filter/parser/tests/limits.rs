//! Hostile input: the nesting and length limits hold on a small stack, and no input
//! makes the parser panic.
use crate::scim::filter::test_util::*;
use crate::scim::filter::{Filter, FilterError, MAX_DEPTH, MAX_FILTER_LEN, parse_filter, parse_path};

// --- limits -----------------------------------------------------------------

fn nested_parens(depth: usize) -> String {
    format!("{}a pr{}", "(".repeat(depth), ")".repeat(depth))
}

/// Runs `f` on a thread with a deliberately small stack, so unbounded
/// recursion would crash the test rather than pass by luck.
fn on_small_stack(f: impl FnOnce() + Send + 'static) {
    std::thread::Builder::new()
        .stack_size(256 * 1024)
        .spawn(f)
        .unwrap()
        .join()
        .unwrap();
}

#[test]
fn nesting_limit() {
    on_small_stack(|| {
        assert_eq!(ok(&nested_parens(MAX_DEPTH)), pr(attr("a")));
        let e = fail(&nested_parens(MAX_DEPTH + 1));
        assert!(matches!(e, FilterError::TooDeep { .. }));
        assert_eq!(e.offset(), Some(MAX_DEPTH));
        // Deep but within the length limit: the depth counter stops it.
        assert!(matches!(fail(&nested_parens(2000)), FilterError::TooDeep { .. }));
        // 10,000 deep is rejected (by length) without touching the stack.
        assert!(matches!(fail(&nested_parens(10_000)), FilterError::TooLong { .. }));
        // Unclosed deep nesting, `not` chains and brackets count too.
        assert!(matches!(fail(&"(".repeat(4000)), FilterError::TooDeep { .. }));
        let nots = format!("{}a pr{}", "not (".repeat(MAX_DEPTH + 1), ")".repeat(MAX_DEPTH + 1));
        assert!(matches!(fail(&nots), FilterError::TooDeep { .. }));
        let in_bracket = format!("emails[{}]", nested_parens(MAX_DEPTH));
        assert!(matches!(fail(&in_bracket), FilterError::TooDeep { .. }));
        let in_bracket = format!("emails[{}]", nested_parens(MAX_DEPTH - 1));
        ok(&in_bracket);
    });
}

/// Left spine length of an and/or chain, walked iteratively.
fn chain_len(mut f: &Filter) -> usize {
    let mut n = 1;
    while let Filter::And(l, _) | Filter::Or(l, _) = f {
        n += 1;
        f = l;
    }
    n
}

#[test]
fn long_chains() {
    on_small_stack(|| {
        let term = "a eq 1";
        let huge = vec![term; 4000].join(" and ");
        assert!(matches!(fail(&huge), FilterError::TooLong { .. }));

        // The longest `and` chain that fits is built iteratively.
        let n = (MAX_FILTER_LEN + 5) / (term.len() + 5);
        let fits = vec![term; n].join(" and ");
        assert!(fits.len() <= MAX_FILTER_LEN);
        assert_eq!(chain_len(&ok(&fits)), n);

        // Shortest possible terms give the deepest tree the limits allow.
        let n = (MAX_FILTER_LEN + 4) / 8;
        let fits = vec!["a pr"; n].join(" or ");
        assert!(fits.len() <= MAX_FILTER_LEN);
        assert_eq!(chain_len(&ok(&fits)), n);
    });
}

// --- robustness ---------------------------------------------------------------

const SAMPLES: &[&str] = &[
    r#"userType eq "Employee" and emails[type eq "work" and value co "@example.com"]"#,
    r#"userType ne "Employee" and not (emails co "example.com" or emails.value co "example.org")"#,
    r#"urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:manager.value eq "x\ud83d\ude00\n""#,
    r#"emails[type eq "work"].value"#,
    "displayName eq \"Zoë 中文\" or x ge -1.5e3 and active eq False",
];

#[test]
fn no_panic_on_any_prefix_or_suffix() {
    for sample in SAMPLES {
        for (i, _) in sample.char_indices() {
            let (head, tail) = sample.split_at(i);
            for part in [head, tail] {
                let _ = parse_filter(part);
                let _ = parse_path(part);
            }
        }
    }
}

#[test]
fn no_panic_on_random_input() {
    const PIECES: &[&str] = &[
        " ",
        "\t",
        "(",
        ")",
        "[",
        "]",
        "\"",
        "\\",
        "\\u",
        "d83d",
        "dc00",
        ".",
        ":",
        "urn:",
        "a",
        "emails",
        "eq",
        "pr",
        "and",
        "or",
        "not",
        "1",
        "-",
        "e",
        "true",
        "é",
        "中",
        "\u{1F600}",
        "\u{0}",
        "\n",
        "$",
        "_",
    ];
    let mut seed: u64 = 0x9E37_79B9_7F4A_7C15;
    let mut next = move || {
        // xorshift64: deterministic, dependency-free.
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..20_000 {
        let len = (next() % 24) as usize;
        let input: String = (0..len)
            .map(|_| PIECES[(next() % PIECES.len() as u64) as usize])
            .collect();
        if let Err(e) = parse_filter(&input) {
            let _ = e.to_string();
        }
        if let Err(e) = parse_path(&input) {
            let _ = e.to_string();
        }
    }
}
