//! A slab with generation counts: O(1) insert, lookup and removal by a small integer
//! key, with stale keys detected. Connections, listeners and TIME-WAIT records live in
//! slabs so that handles and timer entries can name them without pointers.

/// Storage for `T` addressed by `(index, generation)`.
pub(crate) struct Slab<T> {
    slots: Vec<Slot<T>>,
    free: Vec<u32>,
    len: usize,
}

struct Slot<T> {
    generation: u32,
    value: Option<T>,
}

impl<T> Slab<T> {
    pub(crate) fn new() -> Self {
        Slab {
            slots: Vec::new(),
            free: Vec::new(),
            len: 0,
        }
    }

    /// The key the next `insert` will return (so a value can know its own key).
    pub(crate) fn next_key(&self) -> (u32, u32) {
        match self.free.last() {
            Some(&i) => (i, self.slots.get(i as usize).map_or(0, |s| s.generation)),
            None => (self.slots.len() as u32, 0),
        }
    }

    /// Store `value`; returns its `(index, generation)`.
    pub(crate) fn insert(&mut self, value: T) -> (u32, u32) {
        self.insert_with(|| value).0
    }

    /// Store the value `make` returns and give it back in place: built straight into
    /// its slot (no move of a large value through the stack), with its key.
    #[inline(always)]
    pub(crate) fn insert_with(&mut self, make: impl FnOnce() -> T) -> ((u32, u32), &mut T) {
        self.len += 1;
        let i = match self.free.pop() {
            Some(i) if (i as usize) < self.slots.len() => i as usize,
            _ => {
                self.slots.push(Slot {
                    generation: 0,
                    value: None,
                });
                self.slots.len() - 1
            }
        };
        let slot = &mut self.slots[i];
        let generation = slot.generation;
        ((i as u32, generation), slot.value.insert(make()))
    }

    pub(crate) fn get(&self, index: u32, generation: u32) -> Option<&T> {
        let slot = self.slots.get(index as usize)?;
        if slot.generation != generation {
            return None;
        }
        slot.value.as_ref()
    }

    pub(crate) fn get_mut(&mut self, index: u32, generation: u32) -> Option<&mut T> {
        let slot = self.slots.get_mut(index as usize)?;
        if slot.generation != generation {
            return None;
        }
        slot.value.as_mut()
    }

    /// The live value at `index`, whatever its generation.
    pub(crate) fn get_any_mut(&mut self, index: u32) -> Option<&mut T> {
        self.slots.get_mut(index as usize)?.value.as_mut()
    }

    pub(crate) fn get_any(&self, index: u32) -> Option<&T> {
        self.slots.get(index as usize)?.value.as_ref()
    }

    /// The current generation of slot `index` (0 for a slot never used).
    pub(crate) fn generation_of(&self, index: u32) -> u32 {
        self.slots.get(index as usize).map_or(0, |s| s.generation)
    }

    /// Remove the value at `index` (any generation); its key becomes stale.
    pub(crate) fn remove(&mut self, index: u32) -> Option<T> {
        let slot = self.slots.get_mut(index as usize)?;
        let value = slot.value.take()?;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        self.len -= 1;
        Some(value)
    }

    /// Drops the value at `index` where it lies, as [`Slab::remove`] but without moving
    /// it out first (a TCB is several hundred bytes: the move was a `memcpy` on every
    /// connection's end). Returns whether there was one.
    pub(crate) fn free(&mut self, index: u32) -> bool {
        let Some(slot) = self.slots.get_mut(index as usize) else {
            return false;
        };
        if slot.value.is_none() {
            return false;
        }
        slot.value = None;
        slot.generation = slot.generation.wrapping_add(1);
        self.free.push(index);
        self.len -= 1;
        true
    }

    pub(crate) fn len(&self) -> usize {
        self.len
    }

    /// Slots allocated (live or free): what the slab's memory is proportional to.
    pub(crate) fn slots(&self) -> usize {
        self.slots.capacity()
    }
}

#[cfg(test)]
mod tests {
    use super::Slab;

    #[test]
    fn removed_keys_become_stale_and_slots_are_reused() {
        let mut s = Slab::new();
        let (a, ga) = s.insert("a");
        assert_eq!(s.next_key(), (1, 0));
        let (b, gb) = s.insert("b");
        assert_eq!(s.remove(a), Some("a"));
        assert!(s.get(a, ga).is_none());
        assert_eq!(s.next_key(), (a, ga + 1));
        let (c, gc) = s.insert("c");
        assert_eq!(c, a);
        assert_ne!(gc, ga);
        assert_eq!(s.get(b, gb), Some(&"b"));
        assert_eq!(s.get(c, gc), Some(&"c"));
        assert_eq!(s.len(), 2);
        assert!(s.remove(99).is_none());
        assert!(s.free(b));
        assert!(s.get(b, gb).is_none());
        assert!(!s.free(b));
        assert_eq!(s.len(), 1);
        assert_eq!(s.next_key(), (b, gb + 1));
    }

    #[test]
    fn insert_with_builds_in_the_key_next_key_named_and_hands_the_value_back() {
        let mut s = Slab::new();
        let (a, ga) = s.insert(String::from("a"));
        s.insert(String::from("b"));
        assert!(s.free(a));
        let next = s.next_key();
        assert_eq!(next, (a, ga + 1));
        let (key, v) = s.insert_with(|| String::from("c"));
        assert_eq!(key, next);
        v.push('!');
        assert_eq!(s.get(a, ga + 1).map(String::as_str), Some("c!"));
        assert!(s.get(a, ga).is_none());
        assert_eq!(s.len(), 2);
        // With no free slot, a new one at the end.
        let (key, _) = s.insert_with(|| String::from("d"));
        assert_eq!(key, (2, 0));
        assert_eq!(s.len(), 3);
    }
}
