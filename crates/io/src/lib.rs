//! synack-io: the real-network backend (being written).
