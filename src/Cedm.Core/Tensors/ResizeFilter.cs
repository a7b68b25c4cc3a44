namespace Cedm.Tensors;

/// <summary>Interpolation kernel of <see cref="Tensor.Resize2d"/>.</summary>
public enum ResizeFilter
{
    /// <summary>Linear along each axis (triangle kernel of radius 1).</summary>
    Bilinear,
    /// <summary>Cubic convolution: a = −0.75 without antialiasing (PyTorch), a = −0.5 with it (PIL, PyTorch antialias).</summary>
    Bicubic,
}
