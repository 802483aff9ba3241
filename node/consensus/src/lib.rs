//! purse-consensus — Tendermint BFT consensus as a pure state machine: inputs in, effects out, no IO.
