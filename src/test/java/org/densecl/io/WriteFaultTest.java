package org.densecl.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.densecl.backend.Backend;
import org.densecl.backend.ref.RefBackend;
import org.densecl.data.io.WriteHook;
import org.densecl.model.ResNet;
import org.densecl.model.ResNetConfig;
import org.densecl.nn.Param;
import org.densecl.nn.Parameters;
import org.densecl.nn.Sgd;
import org.densecl.tensor.DType;
import org.densecl.tensor.Tensor;
import org.densecl.train.TrainingLog;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A write that fails part-way (a full disk, played by a {@link WriteHook} channel that takes N bytes and then
 * fails as the kernel does) leaves the previous file byte for byte, no temporary behind, and one error line
 * naming the file and the cause: for a training checkpoint (model, BN counters, momentum buffers, metadata; the
 * path every checkpoint of pretrain and finetune takes) at several points of the file, and for the rewrite of a
 * resumed run's log.
 */
class WriteFaultTest {
    private static final String DISK_FULL = "No space left on device";

    @TempDir
    Path dir;

    @Test
    void aCheckpointWriteThatFailsKeepsThePreviousCheckpoint() throws IOException {
        Path file = dir.resolve("checkpoint.safetensors");
        try (Backend be = new RefBackend()) {
            ResNet net = ResNet.create(be, ResNetConfig.resnet(18).withBlocks(1, 1, 1, 1).withWidth(4).withInChannels(1),
                    DType.F32, 1, 16, 16);
            net.initialize(1);
            Sgd sgd = new Sgd(be, net.parameters(), 0.9f, 1e-4f, true);
            save(file, net.parameters(), sgd, be, "3", WriteHook.NONE);
            byte[] previous = Files.readAllBytes(file);
            net.initialize(2); // what the next checkpoint would hold differs in every tensor
            for (long room : List.of(0L, 5L, 8L + 40, previous.length / 2L, previous.length - 1L)) {
                UncheckedIOException e = assertThrows(UncheckedIOException.class,
                        () -> save(file, net.parameters(), sgd, be, "6", diskFullAfter(room)));
                String m = e.getMessage();
                assertTrue(m.contains(file.toString()) && m.contains(DISK_FULL) && m.contains("unchanged"),
                        "after " + room + " bytes: the error must name the file, the cause and what survived: " + m);
                assertFalse(m.contains("\n"), "one line: " + m);
                assertArrayEquals(previous, Files.readAllBytes(file), "after " + room + " bytes the previous checkpoint changed");
                assertEquals(List.of(file), files(), "a failed write left a temporary behind");
            }
            try (SafeTensors sf = SafeTensors.open(file)) {
                assertEquals("3", sf.metadata("step"), "the previous checkpoint still opens and is step 3");
            }
            save(file, net.parameters(), sgd, be, "6", WriteHook.NONE); // with room again, the write goes through
            try (SafeTensors sf = SafeTensors.open(file)) {
                assertEquals("6", sf.metadata("step"));
            }
        }
    }

    @Test
    void aFirstCheckpointWriteThatFailsLeavesNoFile() {
        Path file = dir.resolve("last.safetensors");
        try (Backend be = new RefBackend()) {
            ResNet net = ResNet.create(be, ResNetConfig.resnet(18).withBlocks(1, 1, 1, 1).withWidth(4).withInChannels(1),
                    DType.F32, 1, 16, 16);
            UncheckedIOException e = assertThrows(UncheckedIOException.class,
                    () -> save(file, net.parameters(), null, be, "1", diskFullAfter(100)));
            assertTrue(e.getMessage().contains(file.toString()) && e.getMessage().contains(DISK_FULL), e.getMessage());
        }
        assertEquals(List.of(), files(), "a failed first write left a file behind");
    }

    @Test
    void aLogRewriteThatFailsKeepsTheLog() throws IOException {
        Path log = dir.resolve("log.jsonl");
        Pattern step = Pattern.compile("^\\{\"step\":(\\d+),");
        String text = "{\"step\":1,\"loss\":2.0}\n{\"step\":2,\"loss\":1.5}\n{\"step\":3,\"loss\":1.2}\n{\"step\":4,\"lo";
        Files.writeString(log, text);
        UncheckedIOException e = assertThrows(UncheckedIOException.class,
                () -> TrainingLog.truncate(log, step, 2, diskFullAfter(30)));
        assertTrue(e.getMessage().contains(log.toString()) && e.getMessage().contains(DISK_FULL), e.getMessage());
        assertEquals(text, Files.readString(log), "a failed rewrite changed the log");
        assertEquals(List.of(log), files());
        TrainingLog.truncate(log, step, 2); // the resume after it: records past the checkpoint and the torn line go
        assertEquals("{\"step\":1,\"loss\":2.0}\n{\"step\":2,\"loss\":1.5}\n", Files.readString(log));
    }

    /** A training checkpoint as pretrain and finetune write one: registry, momentum buffers, metadata. */
    private static void save(Path file, Parameters params, Sgd sgd, Backend be, String step, WriteHook hook) {
        Map<String, Tensor> momentum = new LinkedHashMap<>();
        if (sgd != null) {
            for (Param p : params.trainable()) {
                momentum.put("optimizer.momentum." + p.name(), sgd.momentumBuffer(p.name()));
            }
        }
        StateDict.save(file, Map.of("", params), be, momentum, Map.of("format", "test", "step", step), hook);
    }

    /** A disk with {@code room} bytes left: the writes fill it, the next one fails as write(2) does (ENOSPC). */
    private static WriteHook diskFullAfter(long room) {
        return file -> new WritableByteChannel() {
            long left = room;

            @Override
            public int write(ByteBuffer src) throws IOException {
                if (left == 0 && src.hasRemaining()) {
                    throw new IOException(DISK_FULL);
                }
                int n = file.write(src.slice(src.position(), (int) Math.min(left, src.remaining())));
                src.position(src.position() + n);
                left -= n;
                return n;
            }

            @Override
            public boolean isOpen() {
                return file.isOpen();
            }

            @Override
            public void close() throws IOException {
                file.close();
            }
        };
    }

    private List<Path> files() {
        try (Stream<Path> s = Files.list(dir)) {
            return s.sorted().toList();
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }
}
