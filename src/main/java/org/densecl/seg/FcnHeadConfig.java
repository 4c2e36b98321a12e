package org.densecl.seg;

/**
 * What an {@link FcnHead} is made of: mmsegmentation's FCNHead arguments that this project varies.
 * Kernel size 3, dilation 1 and BN (momentum 0.1, eps 1e-5) are FCN R50-D8's and fixed in FcnHead.
 *
 * @param channels    the ConvModules' output channels (512 for the decode head, 256 for the auxiliary one
 *                    at full width)
 * @param numConvs    3x3 ConvModules before the classifier (decode head 2, auxiliary 1); at least 1
 * @param concatInput concatenate [input, convs output] along channels and fuse them with one more 3x3
 *                    ConvModule (conv_cat) to {@code channels}
 * @param dropout     Dropout2d probability before conv_seg (0.1 in mmseg), train mode only; 0 for none
 */
public record FcnHeadConfig(int channels, int numConvs, boolean concatInput, float dropout) {

    public FcnHeadConfig {
        if (channels < 1) {
            throw new IllegalArgumentException("FcnHead: channels must be positive, not " + channels);
        }
        if (numConvs < 1) {
            // mmseg's num_convs = 0 (an identity) needs in_channels == channels; no config here uses it.
            throw new IllegalArgumentException("FcnHead: numConvs must be at least 1, not " + numConvs);
        }
        if (!(dropout >= 0 && dropout < 1)) {
            throw new IllegalArgumentException("FcnHead: dropout must be in [0, 1), not " + dropout);
        }
    }

    /** FCN R50-D8's decode head on C5: 2 convs, concat_input, dropout 0.1. */
    public static FcnHeadConfig decode(int channels) {
        return new FcnHeadConfig(channels, 2, true, 0.1f);
    }

    /** FCN R50-D8's auxiliary head on C4: 1 conv, no concatenation, dropout 0.1. */
    public static FcnHeadConfig auxiliary(int channels) {
        return new FcnHeadConfig(channels, 1, false, 0.1f);
    }

    public FcnHeadConfig withChannels(int c) {
        return new FcnHeadConfig(c, numConvs, concatInput, dropout);
    }

    public FcnHeadConfig withDropout(float p) {
        return new FcnHeadConfig(channels, numConvs, concatInput, p);
    }
}
