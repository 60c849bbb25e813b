//! Unit tests of the local set operations, each against a plain `BTreeSet` model.

use std::collections::BTreeSet;

use super::*;
use crate::set::AtomicIds;

/// A set of `ids` below `bound` in the given form.
fn set(bound: usize, ids: &[u32], bitmap: bool) -> IdSet {
    let mut s = if bitmap {
        IdSet::new_bitmap(bound).unwrap()
    } else {
        IdSet::new(bound).unwrap()
    };
    for &id in ids {
        s.insert(id).unwrap();
    }
    s
}

fn model(ids: &[u32]) -> BTreeSet<u32> {
    ids.iter().copied().collect()
}

#[test]
fn both_forms_agree_on_reads_for_bounds_not_a_multiple_of_64() {
    for bound in [0usize, 1, 63, 64, 65, 130, 1000] {
        let ids: Vec<u32> = (0..bound as u32)
            .filter(|i| i % 7 == 3 || *i + 1 == bound as u32)
            .collect();
        let (l, b) = (set(bound, &ids, false), set(bound, &ids, true));
        assert!(l.is_list() && !b.is_list());
        assert_eq!(l, b, "bound {bound}");
        assert_eq!(l.len(), ids.len());
        assert_eq!(b.to_vec(), ids);
        assert_eq!(b.iter().collect::<Vec<_>>(), ids);
        for id in 0..bound as u32 + 70 {
            assert_eq!(l.contains(id), b.contains(id), "{id} of {bound}");
        }
        assert_eq!(IdSet::full(bound).unwrap().len(), bound);
        assert_eq!(
            IdSet::full(bound).unwrap().to_vec(),
            (0..bound as u32).collect::<Vec<_>>()
        );
    }
}

#[test]
fn ids_past_the_bound_are_errors_not_panics() {
    let mut s = IdSet::new_bitmap(100).unwrap();
    let e = s.insert(100).unwrap_err().to_string();
    assert!(e.contains("id 100") && e.contains("bound 100"), "{e}");
    assert!(IdSet::new(100).unwrap().insert(250).is_err());
    let e = IdSet::from_ids(10, vec![3, 12, 11])
        .unwrap_err()
        .to_string();
    assert!(e.contains("id 12"), "{e}");
    assert!(IdSet::new(usize::MAX).is_err());
    let found = AtomicIds::new(70).unwrap();
    found.insert(3);
    found.insert(69);
    found.insert(70);
    found.insert(1 << 20);
    let e = found.finish().unwrap_err().to_string();
    assert!(e.contains(&(1u32 << 20).to_string()), "{e}");
}

#[test]
fn insert_reports_new_ids_and_keeps_lists_sorted() {
    for bitmap in [false, true] {
        let mut s = set(200, &[], bitmap);
        assert!(s.insert(150).unwrap() && s.insert(3).unwrap() && !s.insert(150).unwrap());
        assert!(s.insert(64).unwrap());
        assert_eq!(s.to_vec(), vec![3, 64, 150]);
    }
}

#[test]
fn compact_picks_a_list_for_few_ids_and_a_bitmap_for_many() {
    let mut few = set(1 << 16, &[5, 1, 900], true);
    few.compact();
    assert!(few.is_list());
    assert_eq!(few.to_vec(), vec![1, 5, 900]);
    let many: Vec<u32> = (0..100).collect();
    assert!(!IdSet::from_ids(1024, many.clone()).unwrap().is_list());
    let mut back = IdSet::from_ids(1024, many.clone()).unwrap();
    back.compact();
    assert_eq!(back.to_vec(), many);
}

#[test]
fn union_intersection_and_difference_match_the_model_in_every_pair_of_forms() {
    let bound = 300;
    let a: Vec<u32> = (0..300).filter(|i| i % 3 == 0).collect();
    let b: Vec<u32> = (0..300).filter(|i| i % 5 == 0 || *i == 299).collect();
    let (ma, mb) = (model(&a), model(&b));
    for fa in [false, true] {
        for fb in [false, true] {
            let (x, y) = (set(bound, &a, fa), set(bound, &b, fb));
            let mut u = x.clone();
            u.union_with(&y).unwrap();
            assert_eq!(model(&u.to_vec()), &ma | &mb, "{fa} {fb}");
            let mut i = x.clone();
            i.intersect_with(&y).unwrap();
            assert_eq!(model(&i.to_vec()), &ma & &mb, "{fa} {fb}");
            let mut d = x.clone();
            d.remove_all(&y).unwrap();
            assert_eq!(model(&d.to_vec()), &ma - &mb, "{fa} {fb}");
            assert_eq!(d.len(), (&ma - &mb).len());
        }
    }
}

#[test]
fn operations_on_sets_of_different_bounds_fail() {
    let mut a = IdSet::new(10).unwrap();
    let b = IdSet::new(11).unwrap();
    assert!(a
        .union_with(&b)
        .unwrap_err()
        .to_string()
        .contains("10 and 11"));
    assert!(a.intersect_with(&b).is_err() && a.remove_all(&b).is_err());
    assert_ne!(a, b);
}

#[test]
fn merges_of_sorted_lists() {
    assert_eq!(sorted::union(&[1, 4, 9], &[0, 4, 10]), vec![0, 1, 4, 9, 10]);
    assert_eq!(sorted::intersection(&[1, 4, 9], &[0, 4, 9]), vec![4, 9]);
    assert_eq!(sorted::difference(&[1, 4, 9], &[0, 4]), vec![1, 9]);
    assert_eq!(sorted::union(&[], &[2]), vec![2]);
}

#[test]
fn atomic_ids_collect_every_thread_s_ids() {
    let a = AtomicIds::new(1000).unwrap();
    std::thread::scope(|s| {
        for t in 0..4 {
            let a = &a;
            s.spawn(move || (t..1000).step_by(4).for_each(|i| a.insert(i)));
        }
    });
    let all = a.finish().unwrap();
    assert_eq!(all, IdSet::full(1000).unwrap());
    let few = AtomicIds::new(1 << 20).unwrap();
    few.insert(7);
    let few = few.finish().unwrap();
    assert!(few.is_list());
    assert_eq!(few.to_vec(), vec![7]);
}
