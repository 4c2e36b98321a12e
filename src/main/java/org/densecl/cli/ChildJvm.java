package org.densecl.cli;

import java.util.ArrayList;
import java.util.List;

/**
 * The command line of a fresh JVM running one of our subcommands with this JVM's runtime and class path:
 * for tools that need a new JIT state (a vector width is fixed when a JVM starts; a JIT outcome differs
 * from one JVM to the next).
 */
final class ChildJvm {
    private ChildJvm() {}

    /** {@code java <our flags> <jvmFlags> -cp <our class path> org.densecl.cli.Main <args>}. */
    static List<String> command(List<String> jvmFlags, List<String> args) {
        return command(jvmFlags, System.getProperty("java.class.path"), args);
    }

    /** The same with another class path: another build of ours (its classes and libraries). */
    static List<String> command(List<String> jvmFlags, String classPath, List<String> args) {
        List<String> cmd = new ArrayList<>();
        cmd.add(ProcessHandle.current().info().command().orElse("java"));
        cmd.addAll(List.of("--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
                "-XX:+UseParallelGC"));
        cmd.addAll(jvmFlags);
        cmd.addAll(List.of("-cp", classPath, Main.class.getName()));
        cmd.addAll(args);
        return cmd;
    }
}
