package org.densecl.backend.cuda;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;

/**
 * Binds the functions of one opened native library by name. A missing symbol is an error naming the
 * function and the library (a cuDNN 8 where 9 was expected, say), raised when the binding class is built,
 * not at the first call. The layouts below are the C types of the NVIDIA headers on x86-64 Linux.
 */
final class Downcalls {
    static final ValueLayout.OfInt INT = ValueLayout.JAVA_INT;        // int, enums, status codes
    static final ValueLayout.OfLong SIZE_T = ValueLayout.JAVA_LONG;   // size_t, long long
    static final ValueLayout.OfDouble DOUBLE = ValueLayout.JAVA_DOUBLE;
    static final java.lang.foreign.AddressLayout PTR = ValueLayout.ADDRESS; // handles, descriptors, pointers

    private final SymbolLookup lookup;
    private final String library;

    Downcalls(SymbolLookup lookup, String library) {
        this.lookup = lookup;
        this.library = library;
    }

    MethodHandle bind(String name, FunctionDescriptor fd) {
        MemorySegment address = lookup.find(name).orElseThrow(() -> new CudaUnavailableException(library
                + " was found but does not export " + name + "; an older or newer major version than this"
                + " binding expects? (see bench/gpu/check)"));
        return Linker.nativeLinker().downcallHandle(address, fd);
    }

    /** The C string at {@code address} (a library's static error text), or "(null)". */
    static String cString(MemorySegment address) {
        return address.equals(MemorySegment.NULL) ? "(null)" : address.reinterpret(4096).getString(0);
    }
}
