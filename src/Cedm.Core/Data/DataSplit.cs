namespace Cedm.Data;

/// <summary>Which part of a dataset with an official train/test split to read.</summary>
public enum DataSplit
{
    Train,
    Test,
}
