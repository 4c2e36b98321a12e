package org.densecl.io;

import org.densecl.tensor.DType;

/**
 * Element types of the safetensors format, under the names its JSON header uses. Reading supports the
 * floating-point types (F64, F32, F16, BF16; converted to float or double) and the integer types
 * (I64, I32, I16, I8, U8, BOOL; converted to int). Writing produces only what a {@link DType} holds.
 */
public enum SafeDType {
    F64(8, true),
    F32(4, true),
    F16(2, true),
    BF16(2, true),
    I64(8, false),
    I32(4, false),
    I16(2, false),
    I8(1, false),
    U8(1, false),
    BOOL(1, false);

    private final int bytes;
    private final boolean floating;

    SafeDType(int bytes, boolean floating) {
        this.bytes = bytes;
        this.floating = floating;
    }

    /** Size of one element in bytes. */
    public int bytes() {
        return bytes;
    }

    /** True for F64, F32, F16, BF16: the types readable as float or double. */
    public boolean isFloating() {
        return floating;
    }

    /** The header name ("F32", "BF16", ...); equal to {@link #name()}. */
    public String headerName() {
        return name();
    }

    /** The type named {@code s} in a header, or null when the format has no such name (or we read none). */
    public static SafeDType fromHeader(String s) {
        for (SafeDType t : values()) {
            if (t.name().equals(s)) {
                return t;
            }
        }
        return null;
    }

    /** How a tensor of {@code d} is stored: F32, F64 and I32 map one to one. */
    public static SafeDType of(DType d) {
        return switch (d) {
            case F32 -> F32;
            case F64 -> F64;
            case I32 -> I32;
        };
    }
}
