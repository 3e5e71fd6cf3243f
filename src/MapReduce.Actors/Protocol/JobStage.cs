namespace MapReduce.Actors.Protocol;

/// <summary>Where a job stands, as the master journals it and as status messages and the API report it.</summary>
public enum JobStage { Running, Succeeded, Failed, Cancelled }
