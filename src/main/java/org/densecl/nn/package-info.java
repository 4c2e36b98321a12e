/**
 * Layers as small final classes that hold parameter handles and call {@link org.densecl.backend.Backend}
 * ops; forward and backward written by hand (llm.c's layer pairs).
 *
 * <p>Memory. {@link org.densecl.nn.Parameters} (weights, BN buffers, gradients) and
 * {@link org.densecl.nn.Activations} (layer outputs, saved statistics, their gradients) are registries:
 * layers declare named tensors while a model is built, then one {@code allocate} per registry carves every
 * tensor out of {@link org.densecl.tensor.Plan} slabs and binds the handles ({@link org.densecl.nn.Param},
 * {@link org.densecl.nn.Act}). Batch and input size are fixed when a model is built, so a training step
 * allocates nothing. A second model built on an allocated Parameters binds to the same weights (another
 * input size, an inference-only plan).
 *
 * <p>Gradients. Every backward ACCUMULATES into dx and the parameter gradients. A step is:
 * {@code params.zeroGrads(); acts.zeroGrads();} forward; the loss adds into an output's gradient; backward;
 * {@link org.densecl.nn.Sgd#step}. Each zeroGrads is one or a few backend calls over a whole slab.
 *
 * <p>Host access. Layers never read tensor data: only backend calls and, at initialisation, uploads of
 * host-generated values ({@link org.densecl.nn.Init}). BN's num_batches_tracked is a host counter
 * ({@link org.densecl.nn.BatchCounter}) for that reason.
 *
 * <p>Names are torchvision state-dict keys ("layer3.4.conv2.weight"), declared in its state_dict order.
 * Conv filters are KRSC (K, R, S, C); a checkpoint writer transposes to PyTorch's OIHW.
 */
package org.densecl.nn;
